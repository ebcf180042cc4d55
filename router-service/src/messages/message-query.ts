import Joi from 'joi';
import type { Knex } from 'knex';
import { CHANNELS, LONE_SURROGATE, MESSAGE_STATUSES, maskRecipient, type Channel, type MessageListItem, type MessageStatus, type Priority } from '@ca/contracts';
import { HttpProblem } from '@ca/http';
import { StorageUnavailable, ValidationFailed, isStorageUnavailable } from '../errors';
import { selfLink, traceLink } from './message-links';

export const PAGE_LIMIT = { default: 20, max: 100 } as const;

/** GET /v1/messages filters (also GraphQL `messages(filter, first, after)`). */
export interface MessageQuery {
  status?: MessageStatus;
  channel?: Channel;
  userId?: string;
  correlationId?: string;
  templateId?: string;
  createdAfter?: Date;
  createdBefore?: Date;
  cursor?: string;
  limit: number;
}

const id = (max: number) => Joi.string().min(1).max(max)
  .pattern(/[\u0000-\u001F\u007F]/, { invert: true, name: 'control characters' })
  .pattern(LONE_SURROGATE, { invert: true, name: 'unpaired UTF-16 surrogates' })
  .messages({ 'string.pattern.invert.name': '{{#label}} must not contain {{#name}}' });

/** Query strings are strings: Joi converts limit and the dates; a repeated parameter (an array) is refused. */
export const messageQuerySchema = Joi.object<MessageQuery>({
  status: Joi.string().valid(...MESSAGE_STATUSES),
  channel: Joi.string().valid(...CHANNELS),
  userId: id(255),
  correlationId: id(128),
  templateId: id(255),
  createdAfter: Joi.date().iso(),
  createdBefore: Joi.date().iso(),
  cursor: Joi.string().max(200).pattern(/^[A-Za-z0-9_-]+$/).messages({ 'string.pattern.base': '"cursor" must be a cursor returned by a previous page' }),
  limit: Joi.number().integer().min(1).max(PAGE_LIMIT.max).default(PAGE_LIMIT.default),
});

/** Validates the query, reporting every invalid parameter at once (unknown ones included), and decodes the cursor. */
export function parseMessageQuery(query: unknown): MessageQuery & { after?: Keyset } {
  const { value, error } = messageQuerySchema.validate(query ?? {}, { abortEarly: false, convert: true });
  const errors = (error?.details ?? []).map((d) => ({ field: d.path.join('.') || String(d.context?.key ?? ''), message: d.message, type: d.type }));
  let after: Keyset | undefined;
  if (!error && value.cursor !== undefined) {
    after = decodeCursor(value.cursor) ?? undefined;
    if (!after) errors.push({ field: 'cursor', message: '"cursor" must be a cursor returned by a previous page', type: 'cursor.invalid' });
  }
  if (errors.length > 0) throw new ValidationFailed(errors);
  return { ...(value as MessageQuery), ...(after ? { after } : {}) };
}

/** Position in the listing order (created_at DESC, id DESC). createdAt keeps PostgreSQL's microseconds. */
export interface Keyset {
  createdAt: string;
  id: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Opaque to clients (base64url JSON): the keyset of the last row of a page, never an offset. */
export function encodeCursor(k: Keyset): string {
  return Buffer.from(JSON.stringify([k.createdAt, k.id])).toString('base64url');
}

export function decodeCursor(cursor: string): Keyset | null {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (!Array.isArray(v) || v.length !== 2) return null;
    const [createdAt, id] = v as unknown[];
    if (typeof createdAt !== 'string' || typeof id !== 'string' || !UUID.test(id)) return null;
    if (!/^\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:\d{2})$/.test(createdAt) || Number.isNaN(Date.parse(createdAt))) return null;
    return { createdAt, id };
  } catch {
    return null;
  }
}

interface ListedRow {
  id: string;
  channel: Channel;
  recipient: string;
  status: MessageStatus;
  priority: Priority;
  correlation_id: string | null;
  user_id: string | null;
  template_id: string | null;
  created_at: Date;
  send_at: Date | null;
  created_at_text: string;
  last_attempted_at: Date | null;
  delivery_attempts: number;
  trace_id: string;
}

export interface ListedMessage {
  item: MessageListItem;
  cursor: string;
}

/**
 * One page of a merchant's messages, newest first, by keyset: `(created_at, id) < cursor` on an
 * index that starts with tenant_id and the filtered column (migration 0007), so the page costs
 * `limit` index entries however deep it is. Reads one row more than asked to know whether a next
 * page exists.
 */
export async function listMessages(
  db: Knex, tenantId: string, q: MessageQuery & { after?: Keyset }, opts: { traceViewUrl: string; now: Date },
): Promise<{ items: ListedMessage[]; hasMore: boolean }> {
  const query = listQuery(db, tenantId, q, opts.now);
  let rows: ListedRow[];
  try {
    rows = await query as ListedRow[];
  } catch (err) {
    if (err instanceof HttpProblem || !isStorageUnavailable(err)) throw err;
    throw new StorageUnavailable();
  }
  const page = rows.slice(0, q.limit);
  return {
    hasMore: rows.length > q.limit,
    items: page.map((r) => ({ item: toItem(r, opts), cursor: encodeCursor({ createdAt: r.created_at_text, id: r.id }) })),
  };
}

/** The page's SQL (exported for scripts/listing-plans.ts, which EXPLAINs exactly this query at 1 M rows). */
export function listQuery(db: Knex, tenantId: string, q: MessageQuery & { after?: Keyset }, now: Date): Knex.QueryBuilder {
  const query = db('messages')
    .select('id', 'channel', 'recipient', 'status', 'priority', 'correlation_id', 'user_id', 'template_id', 'created_at', 'send_at',
      db.raw(`to_json(created_at) #>> '{}' AS created_at_text`), 'last_attempted_at', 'delivery_attempts', 'trace_id')
    .where({ tenant_id: tenantId });
  // `scheduled` is not stored: a pending message whose sendAt is still ahead (as GET /v1/messages/:id says).
  if (q.status === 'scheduled') query.where('status', 'pending').where('send_at', '>', now);
  else if (q.status === 'pending') query.where('status', 'pending').where((w) => { void w.whereNull('send_at').orWhere('send_at', '<=', now); });
  else if (q.status) query.where('status', q.status);
  if (q.channel) query.where('channel', q.channel);
  if (q.userId !== undefined) query.where('user_id', q.userId);
  if (q.correlationId !== undefined) query.where('correlation_id', q.correlationId);
  if (q.templateId !== undefined) query.where('template_id', q.templateId);
  if (q.createdAfter) query.where('created_at', '>', q.createdAfter);
  if (q.createdBefore) query.where('created_at', '<', q.createdBefore);
  if (q.after) query.whereRaw('(created_at, id) < (CAST(? AS timestamptz), CAST(? AS uuid))', [q.after.createdAt, q.after.id]);
  return query.orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }]).limit(q.limit + 1);
}

function toItem(r: ListedRow, opts: { traceViewUrl: string; now: Date }): MessageListItem {
  const { traceViewUrl } = opts;
  return {
    id: r.id,
    channel: r.channel,
    to: maskRecipient(r.channel, r.recipient),
    status: r.status === 'pending' && r.send_at && r.send_at > opts.now ? 'scheduled' : r.status,
    priority: r.priority,
    correlationId: r.correlation_id,
    userId: r.user_id,
    templateId: r.template_id,
    createdAt: r.created_at.toISOString(),
    lastAttemptedAt: r.last_attempted_at?.toISOString() ?? null,
    deliveryAttempts: r.delivery_attempts,
    traceId: r.trace_id,
    links: { self: selfLink(r.id), trace: traceLink(traceViewUrl, r.trace_id) },
  };
}
