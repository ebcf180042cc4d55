import CircuitBreaker from 'opossum';
import type { ProviderResult } from '../providers/provider';

export interface BreakerSettings {
  /** Failure share (%) in the rolling window that opens the circuit. */
  errorThresholdPercentage: number;
  /** Calls in the window before the share counts at all. */
  volumeThreshold: number;
  /** How long the circuit stays open before one trial call (half-open). */
  resetTimeoutMs: number;
  /** The rolling window the share is computed over. */
  rollingWindowMs: number;
  /** false: calls always go through (the built-in default providers, whose failures are demo rules). */
  enabled?: boolean;
}

export type CircuitState = 'closed' | 'open' | 'half_open';

/** Thrown inside the breaker so it counts a retryable provider answer as a failure. */
class CountedFailure extends Error {
  constructor(readonly result: ProviderResult) {
    super('provider failure');
  }
}

export interface ProviderBreaker {
  state(): CircuitState;
  /**
   * Runs the call through the circuit. An open circuit answers `{ open: true }` without calling.
   * Retryable failures and thrown errors count against the provider; permanent answers (a bad
   * recipient) and rate limits do not — they say nothing about the provider's health.
   */
  run(call: () => Promise<ProviderResult>): Promise<{ open: true } | { open: false; result: ProviderResult }>;
  onStateChange(listener: (state: CircuitState) => void): void;
  shutdown(): void;
}

/** One opossum circuit breaker per provider (tenant, channel, provider name). */
export function createBreaker(name: string, s: BreakerSettings): ProviderBreaker {
  const breaker = new CircuitBreaker(async (call: () => Promise<ProviderResult>) => {
    const result = await call();
    if (!result.ok && result.retryable && result.retryAfterMs === undefined) throw new CountedFailure(result);
    return result;
  }, {
    name,
    timeout: false, // the worker's AbortSignal bounds each call
    errorThresholdPercentage: s.errorThresholdPercentage,
    volumeThreshold: s.volumeThreshold,
    resetTimeout: s.resetTimeoutMs,
    rollingCountTimeout: s.rollingWindowMs,
    rollingCountBuckets: 10,
    enabled: s.enabled ?? true,
  });
  const listeners: Array<(state: CircuitState) => void> = [];
  const emit = (state: CircuitState) => { for (const l of listeners) l(state); };
  breaker.on('open', () => emit('open'));
  breaker.on('halfOpen', () => emit('half_open'));
  breaker.on('close', () => emit('closed'));
  return {
    state: () => (breaker.opened ? 'open' : breaker.halfOpen ? 'half_open' : 'closed'),
    async run(call) {
      try {
        return { open: false, result: await breaker.fire(call) };
      } catch (err) {
        if (err instanceof CountedFailure) return { open: false, result: err.result };
        if ((err as { code?: string }).code === 'EOPENBREAKER') return { open: true };
        throw err;
      }
    },
    onStateChange(listener) {
      listeners.push(listener);
    },
    shutdown() {
      breaker.shutdown();
    },
  };
}
