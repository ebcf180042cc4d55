import type { Knex } from 'knex';
import type { Channel, Priority, SendMessageRequest } from '@ca/contracts';

export interface MessageRow {
  id: string;
  channel: Channel;
  recipient: string;
  subject: string | null;
  body: string;
  priority: Priority;
  correlation_id: string | null;
  metadata: Record<string, string | number | boolean> | null;
  trace_id: string;
  idempotency_key: string | null;
  created_at: Date;
}

export async function insertMessage(
  trx: Knex.Transaction,
  input: { id: string; tenantId: string; message: SendMessageRequest; traceId: string; idempotencyKey: string | null; createdAt: Date },
): Promise<void> {
  const m = input.message;
  await trx('messages').insert({
    id: input.id,
    tenant_id: input.tenantId,
    channel: m.channel,
    recipient: m.to,
    subject: m.subject ?? null,
    body: m.body,
    priority: m.priority,
    correlation_id: m.correlationId ?? null,
    metadata: m.metadata ? JSON.stringify(m.metadata) : null,
    trace_id: input.traceId,
    idempotency_key: input.idempotencyKey,
    created_at: input.createdAt,
  });
}

export async function findMessage(db: Knex, id: string, tenantId: string): Promise<MessageRow | undefined> {
  return db('messages').select('*').where({ id, tenant_id: tenantId }).first<MessageRow | undefined>();
}
