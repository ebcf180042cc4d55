import type { Knex } from 'knex';

export interface OutboxEntry {
  topic: string;
  key: string;
  /** The Kafka record value (JSON text). */
  value: string;
  /** Kafka headers to send: W3C trace context of the accepting request plus x-message-id etc. */
  headers: Record<string, string>;
}

export interface OutboxRow extends OutboxEntry {
  id: string;
}

/** Adds a record to publish; call inside the transaction that writes the business row. */
export async function enqueueOutbox(trx: Knex.Transaction, entry: OutboxEntry, now: Date): Promise<void> {
  await trx('outbox').insert({ ...entry, headers: JSON.stringify(entry.headers), created_at: now });
}

/**
 * Locks the oldest unpublished rows for this transaction. SKIP LOCKED lets several router
 * processes relay at once without taking each other's rows or waiting on them.
 */
export async function lockOutboxBatch(trx: Knex.Transaction, limit: number): Promise<OutboxRow[]> {
  return trx('outbox')
    .select('id', 'topic', 'key', 'value', 'headers')
    .orderBy('id')
    .limit(limit)
    .forUpdate()
    .skipLocked();
}

export async function deleteOutboxRows(trx: Knex.Transaction, ids: readonly string[]): Promise<void> {
  if (ids.length > 0) await trx('outbox').whereIn('id', ids).delete();
}

/** Creation time of the oldest unpublished row, or null when the outbox is empty. */
export async function oldestOutboxEntry(db: Knex): Promise<Date | null> {
  const row = await db('outbox').min<{ oldest: Date | null }>('created_at as oldest').first();
  return row?.oldest ?? null;
}
