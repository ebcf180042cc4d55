import type { Channel, MessageStatus, Priority } from './channels';

export const ATTEMPT_OUTCOMES = ['sent', 'transient_failure', 'permanent_failure'] as const;
export type AttemptOutcome = (typeof ATTEMPT_OUTCOMES)[number];

export interface AttemptView {
  n: number;
  at: string;
  outcome: AttemptOutcome;
  error: string | null;
  /** For a transient failure that will be retried: the delay chosen before the next attempt. */
  backoffMs: number | null;
}

/** delivery-service GET /internal/v1/messages/:id — the delivery half of a message's status. */
export interface DeliveryStatusView {
  id: string;
  status: MessageStatus;
  deliveryAttempts: number;
  lastAttemptedAt: string | null;
  nextAttemptAt: string | null;
  errorMessage: string | null;
  providerMessageId: string | null;
  attempts: AttemptView[];
}

/** router-service GET /v1/messages/:id. */
export interface MessageView {
  id: string;
  channel: Channel;
  to: string; // masked
  status: MessageStatus;
  priority: Priority;
  correlationId: string | null;
  createdAt: string;
  lastAttemptedAt: string | null;
  deliveryAttempts: number;
  errorMessage: string | null;
  attempts: AttemptView[];
  traceId: string;
  links: { self: string; trace: string | null };
  /** The requested send time (status `scheduled` until then), or null. */
  sendAt?: string | null;
}

export interface AcceptedView {
  id: string;
  /** `scheduled` when the request carried a future sendAt. */
  status: 'pending' | 'scheduled';
  traceId: string;
  links: { self: string; trace: string | null };
}

/** POST /v1/messages/:id/cancel (and DELETE /v1/messages/:id) when the message was canceled. */
export interface CanceledView {
  id: string;
  status: 'canceled';
  canceledAt: string;
}

/** What router-service tells delivery-service when it cancels a message delivery may not have seen yet. */
export interface CancelRequest {
  tenantId: string;
  channel: Channel;
  priority: Priority;
  traceId: string;
  createdAt: string;
}
