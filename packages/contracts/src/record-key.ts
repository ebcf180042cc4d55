import { createHash } from 'node:crypto';
import type { Channel } from './channels';

/**
 * Kafka key of a send record (send and retry topics): one key per channel+recipient, so one
 * recipient's messages share a partition and keep their order. The recipient is hashed because the
 * kafkajs instrumentation copies the key into `messaging.kafka.message.key` on every producer and
 * consumer span, and recipients never appear unmasked in telemetry. (A hash of a phone number is a
 * pseudonym, not anonymity: it keeps recipients out of traces and logs, not out of reach of someone
 * holding the topic data, which carries the recipient in the value anyway.)
 */
export function recordKey(channel: Channel, to: string): string {
  return `${channel}:${createHash('sha256').update(to).digest('hex').slice(0, 32)}`;
}
