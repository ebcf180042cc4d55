import type { Knex } from 'knex';

/**
 * The accept path is one statement (a chain of data-modifying CTEs, see messages/message-store.ts).
 * When that statement finds the request must be refused after it has already written (the dedup
 * claim or rate counter of a 429, a key completion lost to a takeover), it calls this function,
 * whose exception rolls the whole statement back: PostgreSQL has no RAISE in plain SQL.
 */
export const ACCEPT_REFUSED_SQLSTATE = 'CAREF';

export const acceptRefused = {
  name: '0003-accept-refused',
  async up(db: Knex): Promise<void> {
    await db.raw(`CREATE FUNCTION accept_refused(reason text) RETURNS int LANGUAGE plpgsql VOLATILE AS $$
      BEGIN
        RAISE EXCEPTION USING ERRCODE = '${ACCEPT_REFUSED_SQLSTATE}', MESSAGE = reason;
      END
    $$`);
  },
  async down(db: Knex): Promise<void> {
    await db.raw('DROP FUNCTION IF EXISTS accept_refused(text)');
  },
};
