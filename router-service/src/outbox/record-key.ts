import type { Channel } from '@ca/contracts';
import { sha256 } from '../dedup/hashing';

/**
 * Kafka key of a send record: one key per channel+recipient, so one recipient's messages share a
 * partition and keep their order. The recipient is hashed because the kafkajs instrumentation copies
 * the key into `messaging.kafka.message.key` on every producer and consumer span, and recipients
 * never appear unmasked in telemetry. (A hash of a phone number is a pseudonym, not anonymity: it
 * keeps recipients out of traces and logs, not out of reach of someone holding the topic data,
 * which carries the recipient in the value anyway.)
 */
export function recordKey(channel: Channel, to: string): string {
  return `${channel}:${sha256(to).slice(0, 32)}`;
}
