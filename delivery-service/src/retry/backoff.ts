export interface BackoffPolicy {
  baseMs: number;
  factor: number;
  maxMs: number;
}

/**
 * Exponential backoff with "equal jitter": half of the exponential step is fixed and half is
 * random. Full jitter spreads retries best but can pick a shorter delay for attempt 3 than for
 * attempt 2; equal jitter keeps delays growing (attempt n lies in [e_n/2, e_n], attempt n+1 in
 * [e_n, 2e_n] when the factor is 2, until the cap) while still spreading a thundering herd.
 *
 * `failedAttempt` is the 1-based number of the attempt that just failed.
 */
export function backoffDelayMs(policy: BackoffPolicy, failedAttempt: number, random: () => number): number {
  const exp = Math.min(policy.maxMs, policy.baseMs * Math.pow(policy.factor, Math.max(0, failedAttempt - 1)));
  const half = exp / 2;
  return Math.round(half + random() * half);
}
