/**
 * Recent health of one provider: exponentially weighted error rate and latency, with hysteresis
 * so a provider is not flipped in and out of favour by single calls (in the spirit of GOV.UK
 * Notify's switch away from a slow SMS provider). A degraded provider is still used — last.
 */
export interface HealthSettings {
  /** Weight of the newest sample (0..1): 0.2 ≈ the last ten calls matter. */
  alpha: number;
  /** Samples before a verdict; a new provider starts healthy. */
  minSamples: number;
  /** Error rate above which a provider becomes degraded, and below which it recovers. */
  degradeAbove: number;
  recoverBelow: number;
  /** Latency (ms) above which a provider counts as slow (degraded), recovering below 70 % of it. */
  slowMs: number;
}

export const DEFAULT_HEALTH: HealthSettings = { alpha: 0.2, minSamples: 5, degradeAbove: 0.5, recoverBelow: 0.2, slowMs: 5_000 };

export interface ProviderHealth {
  record(ok: boolean, latencyMs: number): void;
  degraded(): boolean;
  snapshot(): { errorRate: number; latencyMs: number; samples: number; degraded: boolean };
}

export function createProviderHealth(s: HealthSettings = DEFAULT_HEALTH): ProviderHealth {
  let errorRate = 0;
  let latencyMs = 0;
  let samples = 0;
  let degraded = false;
  return {
    record(ok, ms) {
      samples += 1;
      // A new provider starts from a healthy prior (error rate 0), so one early failure cannot condemn it.
      errorRate = s.alpha * (ok ? 0 : 1) + (1 - s.alpha) * errorRate;
      latencyMs = samples === 1 ? ms : s.alpha * ms + (1 - s.alpha) * latencyMs;
      if (samples < s.minSamples) return;
      if (!degraded && (errorRate > s.degradeAbove || latencyMs > s.slowMs)) degraded = true;
      else if (degraded && errorRate < s.recoverBelow && latencyMs < s.slowMs * 0.7) degraded = false;
    },
    degraded: () => degraded,
    snapshot: () => ({ errorRate, latencyMs, samples, degraded }),
  };
}

/**
 * The order to try providers in: ordered mode keeps the configured order, weighted mode draws the
 * first by weight and keeps the rest by descending weight; in both, degraded providers go last
 * (stable), so traffic shifts away from a sick provider but still reaches it when all are sick.
 */
export function orderCandidates<T extends { weight: number; health: ProviderHealth }>(items: readonly T[], mode: 'ordered' | 'weighted', random: () => number): T[] {
  let ordered = [...items];
  if (mode === 'weighted' && ordered.length > 1) {
    const healthy = ordered.filter((c) => !c.health.degraded());
    const pool = healthy.length > 0 ? healthy : ordered;
    const total = pool.reduce((sum, c) => sum + Math.max(0, c.weight), 0);
    let pick = pool[0]!;
    if (total > 0) {
      let r = random() * total;
      for (const c of pool) {
        r -= Math.max(0, c.weight);
        if (r < 0) { pick = c; break; }
      }
    }
    ordered = [pick, ...ordered.filter((c) => c !== pick).sort((a, b) => b.weight - a.weight)];
  }
  return [...ordered.filter((c) => !c.health.degraded()), ...ordered.filter((c) => c.health.degraded())];
}
