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
  /** Set for notifications (POST /v1/notifications); null for raw sends. */
  userId?: string | null;
  templateId?: string | null;
  templateVersion?: number | null;
  /** The requested send time (status `scheduled` until then), or null. */
  sendAt?: string | null;
  /** Why sendAt is later than asked (quiet hours, a per-user limit with policy defer), or null. */
  deferredBy?: DeferReason | null;
}

/** What moved a notification's send time: the template's quiet hours, or a per-user limit with policy `defer`. */
export type DeferReason = 'quiet_hours' | 'rate_limit';

export interface AcceptedView {
  id: string;
  /** `scheduled` when the request carried a future sendAt. */
  status: 'pending' | 'scheduled';
  traceId: string;
  links: { self: string; trace: string | null };
  /** POST /v1/notifications: the same id under the seed's name. */
  notificationId?: string;
  /** A notification over a per-user limit whose policy is `defer`: published no earlier than this. */
  deferredUntil?: string;
  /** Set with deferredUntil: what deferred it. */
  deferredBy?: DeferReason;
}

/** Template categories no user can opt out of (a password reset must always reach its user). */
export const MANDATORY_CATEGORIES: ReadonlySet<string> = new Set(['security']);

/** router-service PUT/GET /v1/users/:userId: a recipient profile. */
export interface UserView {
  userId: string;
  /** Several per channel allowed; a send uses the first one of its channel. */
  addresses: Record<Channel, string[]>;
  /** BCP 47 tag (e.g. `de-AT`): picks the template's locale variant (fallback chain in the README). */
  locale: string | null;
  /** IANA time zone (e.g. `Europe/Berlin`). */
  timeZone: string | null;
  preferences: { optOut: { channels: Channel[]; categories: string[] } };
  createdAt: string;
  updatedAt: string;
}

/** One channel's text of a template; `html` only for email, `subject` for email (required) and push (title). */
export interface TemplateChannelVariant {
  subject?: string;
  text: string;
  html?: string;
}

/** A per-template rate limit per user: at most `limit` sends in `windowSeconds`, then reject (429) or defer. */
export interface RateLimitPolicy {
  limit: number;
  windowSeconds: number;
  onLimit: 'reject' | 'defer';
}

/**
 * A template's quiet hours: local wall times (`HH:MM`) in the user's time zone; `start` after `end`
 * crosses midnight. A non-urgent notification that would go out inside them waits for `end`.
 */
export interface QuietHours {
  start: string;
  end: string;
}

/** router-service POST/PUT/GET /v1/templates/:templateId (one version of a template). */
export interface TemplateView {
  templateId: string;
  version: number;
  category: string;
  defaultLocale: string;
  /** locale → channel → variant, e.g. { en: { sms: { text: 'Code {{ code }}' } } }. */
  variants: Record<string, Partial<Record<Channel, TemplateChannelVariant>>>;
  rateLimit: RateLimitPolicy | null;
  quietHours: QuietHours | null;
  createdAt: string;
}

/** router-service POST /v1/templates/:templateId/preview. */
export interface TemplatePreview {
  templateId: string;
  version: number;
  channel: Channel;
  locale: string;
  subject: string | null;
  text: string;
  html: string | null;
  /** SMS only: how the text is encoded and how many segments it takes. */
  sms: { encoding: 'GSM-7' | 'UCS-2'; segments: number; units: number } | null;
}

/**
 * One message in GET /v1/messages. Its status is router-service's projection of delivery-service's
 * status events (eventually consistent, usually within a second); GET /v1/messages/:id reads it live.
 */
export interface MessageListItem {
  id: string;
  channel: Channel;
  to: string; // masked
  status: MessageStatus;
  priority: Priority;
  correlationId: string | null;
  userId: string | null;
  templateId: string | null;
  createdAt: string;
  lastAttemptedAt: string | null;
  deliveryAttempts: number;
  traceId: string;
  links: { self: string; trace: string | null };
}

/** router-service GET /v1/messages: newest first; `nextCursor` (opaque) fetches the next page, null on the last. */
export interface MessagePage {
  items: MessageListItem[];
  nextCursor: string | null;
  links: { next: string | null };
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

/**
 * One channel + provider of a merchant's delivery numbers (delivery-service GET
 * /internal/v1/tenants/:tenantId/delivery-stats): messages by current status since the window's
 * start, attempts beyond each message's first, and how many were sent in the last minute.
 */
export interface DeliveryStatsRow {
  channel: Channel;
  provider: string;
  sent: number;
  /** failed + dead_lettered */
  failed: number;
  retrying: number;
  pending: number;
  retries: number;
  sentRecently: number;
}

/** router-service GET /v1/dashboard (and each `stats` event of GET /v1/dashboard/events): the live dashboard. */
export interface DashboardView {
  /** The window: messages accepted since `since` (`windowMinutes` before `at`). */
  since: string;
  at: string;
  windowMinutes: number;
  rows: Array<DeliveryStatsRow & {
    /** sent / (sent + failed), null before anything finished. */
    successRate: number | null;
    /** Sent in the last 60 s: the delivery rate, messages per minute. */
    sentPerMinute: number;
  }>;
}
