import type { Channel } from './channels';

/**
 * Public contract of the simulated providers: recipients that force an outcome. Demos and client
 * test suites rely on these, so they are part of the API (README "Simulated providers").
 *
 *   rule            email local part starts   sms / whatsapp number ends   push token starts
 *   fail-transient  fail-transient            ...9991                      fail-transient
 *   fail-permanent  fail-permanent            ...9992                      fail-permanent
 *   fail-always     fail-always               ...9993                      fail-always
 *
 * fail-transient fails transiently on the first two calls for a message, then succeeds;
 * fail-permanent fails permanently on the first call; fail-always fails transiently every time.
 */
export const FORCED_OUTCOMES = ['fail-transient', 'fail-permanent', 'fail-always'] as const;
export type ForcedOutcome = (typeof FORCED_OUTCOMES)[number];

const PHONE_SUFFIX: Record<string, ForcedOutcome> = {
  '9991': 'fail-transient',
  '9992': 'fail-permanent',
  '9993': 'fail-always',
};

export function forcedOutcomeFor(channel: Channel, to: string): ForcedOutcome | null {
  if (channel === 'sms' || channel === 'whatsapp') return PHONE_SUFFIX[to.slice(-4)] ?? null;
  const subject = channel === 'email' ? to.slice(0, Math.max(0, to.lastIndexOf('@'))) : to;
  return FORCED_OUTCOMES.find((rule) => subject.toLowerCase().startsWith(rule)) ?? null;
}

/** fail-transient succeeds on this call number (1-based). */
export const FAIL_TRANSIENT_SUCCEEDS_ON_CALL = 3;
