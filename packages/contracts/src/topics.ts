import type { Channel, Priority } from './channels';

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
  /**
   * One merchant webhook POST to make (WebhookDeliverRecord), key = endpoint id. router-service
   * enqueues it with its status projection update and consumes it itself; a failed POST is
   * re-enqueued with not_before = the backoff.
   */
  webhookDeliver: 'webhook.deliver',
  /**
   * Priority lanes: high and low have topics (and consumer groups) of their own, so a HIGH message
   * never waits behind a LOW backlog; medium keeps the original send.<channel> (records written
   * before lanes existed, and every consumer of it, stay valid).
   */
  lane: (channel: Channel, priority: Priority) => (priority === 'medium' ? `send.${channel}` : `send.${channel}.${priority}`),
} as const;

/** Outbox claim order of a lane (lower first): a relay round takes HIGH rows before LOW ones. */
export const LANE_ORDER: Readonly<Record<Priority, number>> = { high: 0, medium: 1, low: 2 };

export interface Topics {
  send(channel: Channel): string;
  retry(channel: Channel): string;
  readonly deadLetter: string;
  readonly status: string;
  readonly webhookDeliver: string;
  /** The send topic of a priority lane (medium: send(channel)). */
  lane(channel: Channel, priority: Priority): string;
}

export function topicsFor(prefix = ''): Topics {
  return {
    send: (channel) => prefix + TOPIC_SUFFIX.send(channel),
    retry: (channel) => prefix + TOPIC_SUFFIX.retry(channel),
    deadLetter: prefix + TOPIC_SUFFIX.deadLetter,
    status: prefix + TOPIC_SUFFIX.status,
    webhookDeliver: prefix + TOPIC_SUFFIX.webhookDeliver,
    lane: (channel, priority) => prefix + TOPIC_SUFFIX.lane(channel, priority),
  };
}

/** Consumer group per channel, so each channel scales and fails on its own. */
export function deliveryGroupId(prefix: string, channel: Channel, priority: Priority = 'medium'): string {
  // medium keeps the original group id, so its committed offsets survive the introduction of lanes.
  return priority === 'medium' ? `${prefix}delivery.${channel}` : `${prefix}delivery.${channel}.${priority}`;
}

/** router-service's group on the status topic (one projection per deployment, shared by its processes). */
export function routerStatusGroupId(prefix: string): string {
  return `${prefix}router.status`;
}

/** router-service's group on the webhook topic (its webhook sender). */
export function routerWebhookGroupId(prefix: string): string {
  return `${prefix}router.webhooks`;
}
