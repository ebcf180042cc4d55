import type { Channel } from './channels';

/**
 * Every Kafka topic name the product uses. No service spells a topic as a string literal.
 *
 * Renaming a topic is a migration: producers and consumers of the old name must be drained first
 * (publish to both, let consumers finish the old topic, then drop it). Keep infra/topics.json in
 * step with this table; scripts/check-topics test compares them.
 *
 * `prefix` lets several deployments (or tests) share one cluster: topics become `<prefix>send.email`.
 */
export const TOPIC_SUFFIX = {
  send: (channel: Channel) => `send.${channel}`,
  retry: (channel: Channel) => `send.${channel}.retry`,
  deadLetter: 'send.dead-letter',
  /** Delivery status changes (StatusEvent), key = message id: router-service keeps its listing projection from them. */
  status: 'message.status',
} as const;

export interface Topics {
  send(channel: Channel): string;
  retry(channel: Channel): string;
  readonly deadLetter: string;
  readonly status: string;
}

export function topicsFor(prefix = ''): Topics {
  return {
    send: (channel) => prefix + TOPIC_SUFFIX.send(channel),
    retry: (channel) => prefix + TOPIC_SUFFIX.retry(channel),
    deadLetter: prefix + TOPIC_SUFFIX.deadLetter,
    status: prefix + TOPIC_SUFFIX.status,
  };
}

/** Consumer group per channel, so each channel scales and fails on its own. */
export function deliveryGroupId(prefix: string, channel: Channel): string {
  return `${prefix}delivery.${channel}`;
}

/** router-service's group on the status topic (one projection per deployment, shared by its processes). */
export function routerStatusGroupId(prefix: string): string {
  return `${prefix}router.status`;
}
