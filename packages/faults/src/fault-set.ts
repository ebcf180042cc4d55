import Joi from 'joi';
import { CHANNELS, type Channel } from '@ca/contracts';

/**
 * The switches a demo (or a chaos drill) can turn on, by one flat dotted name each, spelled the
 * same in the FAULTS variable, in the admin API's JSON and in the `ca.fault.injected` span
 * attribute. A share is the probability (0..1) that one call is hit; a `.<channel>` variant
 * overrides the plain one for that channel. Absent = off.
 *
 * | name                         | value     | bites                                                     |
 * |------------------------------|-----------|-----------------------------------------------------------|
 * | provider.outage[.<channel>]  | share     | delivery-service: the provider answers a retryable 503   |
 * | provider.latency_ms[.<ch.>]  | ms        | delivery-service: the provider answers that much later    |
 * | broker.publish_failure       | share     | router/delivery: the outbox relay's produce request fails |
 * | postgres.latency_ms          | ms        | every service: each SQL statement waits that long         |
 * | logging.down                 | boolean   | logging-service: OTLP intake answers 503 + Retry-After    |
 */
export const FAULT = {
  providerOutage: 'provider.outage',
  providerLatency: 'provider.latency_ms',
  brokerPublishFailure: 'broker.publish_failure',
  postgresLatency: 'postgres.latency_ms',
  loggingDown: 'logging.down',
} as const;

export type FaultName = (typeof FAULT)[keyof typeof FAULT];
type PerChannel<N extends string> = N | `${N}.${Channel}`;
export type FaultKey = PerChannel<typeof FAULT.providerOutage> | PerChannel<typeof FAULT.providerLatency>
  | typeof FAULT.brokerPublishFailure | typeof FAULT.postgresLatency | typeof FAULT.loggingDown;

/** The faults in force: only switched-on keys are present. */
export type FaultSet = Partial<Record<FaultKey, number | boolean>>;

const share = Joi.number().min(0).max(1);
// A minute bounds any added delay: longer ones only look like a hang.
const delayMs = Joi.number().integer().min(0).max(60_000);
const keys: Record<string, Joi.Schema> = {
  [FAULT.providerOutage]: share,
  [FAULT.providerLatency]: delayMs,
  [FAULT.brokerPublishFailure]: share,
  [FAULT.postgresLatency]: delayMs,
  [FAULT.loggingDown]: Joi.boolean(),
};
for (const channel of CHANNELS) {
  keys[`${FAULT.providerOutage}.${channel}`] = share;
  keys[`${FAULT.providerLatency}.${channel}`] = delayMs;
}

/** The admin API's PUT body and the parsed FAULTS variable: every key known, every value in range. */
export const faultSetSchema = Joi.object<FaultSet>(keys).required().unknown(false).prefs({ abortEarly: false, convert: true });

export interface FaultFieldError {
  field: string;
  message: string;
  type: string;
}

export type Validated = { ok: true; value: FaultSet } | { ok: false; errors: FaultFieldError[] };

/** The switch a key sets (`provider.outage.sms` → `provider.outage`). */
export function faultNameOf(key: string): FaultName | undefined {
  return Object.values(FAULT).find((name) => key === name || key.startsWith(`${name}.`));
}

/**
 * Validates and normalises a set; switched-off values (0, false) are dropped, so "present" means
 * "on". With `supported`, a switch the service does not act on is refused too (the admin API: a
 * drill aimed at the wrong port must not look like it worked).
 */
export function validateFaultSet(input: unknown, supported?: readonly FaultName[]): Validated {
  const { value, error } = faultSetSchema.validate(input);
  const errors: FaultFieldError[] = (error?.details ?? []).map((d) => ({ field: d.context?.key !== undefined ? String(d.context.key) : '(body)', message: d.message, type: d.type }));
  if (supported && input && typeof input === 'object' && !Array.isArray(input)) {
    for (const [key, raw] of Object.entries(input)) {
      const name = faultNameOf(key);
      const off = raw === 0 || raw === false; // switching off what does not apply is harmless
      if (name && !off && !supported.includes(name)) {
        errors.push({ field: key, message: `"${key}" has no effect on this service, which takes ${supported.join(', ')}`, type: 'fault.unsupported' });
      }
    }
  }
  if (errors.length > 0) return { ok: false, errors };
  const out: FaultSet = {};
  for (const [k, v] of Object.entries(value as FaultSet)) if (v !== 0 && v !== false) out[k as FaultKey] = v;
  return { ok: true, value: out };
}

/**
 * Parses the FAULTS variable: `name=value` pairs separated by commas, e.g.
 * `provider.outage=0.5,provider.latency_ms=2000,logging.down=true`. A bare name means `true`
 * (only meaningful for logging.down). Throws naming every bad pair.
 */
export function parseFaults(spec: string): FaultSet {
  const pairs: Record<string, string> = {};
  for (const part of spec.split(',').map((p) => p.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    const name = (eq < 0 ? part : part.slice(0, eq)).trim();
    pairs[name] = eq < 0 ? 'true' : part.slice(eq + 1).trim();
  }
  const result = validateFaultSet(pairs);
  if (!result.ok) throw new Error(`FAULTS: ${result.errors.map((e) => e.message).join('; ')}`);
  return result.value;
}
