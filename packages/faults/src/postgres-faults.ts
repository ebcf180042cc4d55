import type { Knex } from 'knex';
import { Query } from 'pg';
import { ATTR } from '@ca/contracts';
import type { Faults } from './fault-registry';
import { FAULT } from './fault-set';

const HOOKED = Symbol('ca.faults.postgres');

interface PgConnection {
  query(...args: unknown[]): unknown;
  [HOOKED]?: true;
}

interface QueryConfig { text?: unknown; values?: unknown; name?: unknown }
type Submit = (connection: unknown) => Error | null | undefined;

/**
 * `postgres.latency_ms` for one knex instance: every statement waits that long on its connection
 * before it is sent, as on a slow or overloaded server (the connection stays checked out, so pool
 * contention follows as it would). Hooked where knex checks a connection out of its pool (also
 * the path of transactions), on the pg client itself, so the pg instrumentation's span covers
 * the wait, and each delayed statement carries a trailing sqlcommenter-style comment,
 * `/* ca.fault.injected='postgres.latency_ms',ca.fault.delay_ms='200' *\/`, which the span's
 * `db.query.text` shows. Off (0), statements go straight through, untouched.
 */
export function withQueryLatency<T extends Knex>(db: T, faults: Faults): T {
  const client = db.client as { acquireConnection(): Promise<PgConnection> };
  const acquire = client.acquireConnection.bind(client);
  client.acquireConnection = async () => {
    const connection = await acquire();
    if (!connection[HOOKED]) hook(connection, faults);
    return connection;
  };
  return db;
}

function hook(connection: PgConnection, faults: Faults): void {
  const query = Object.getPrototypeOf(connection).query as PgConnection['query'];
  connection[HOOKED] = true;
  connection.query = function delayedQuery(this: PgConnection, ...args: unknown[]) {
    const ms = faults.value(FAULT.postgresLatency);
    const [config, callback] = args as [QueryConfig, unknown];
    // Only knex's own form (config object + callback, unnamed, array values); anything else as is.
    const plain = ms > 0 && args.length === 2 && typeof callback === 'function' && config && typeof config === 'object'
      && typeof config.text === 'string' && config.name === undefined && (config.values === undefined || Array.isArray(config.values));
    if (!plain) return query.apply(this, args);
    const comment = ` /* ${ATTR.faultInjected}='${FAULT.postgresLatency}',${ATTR.faultDelayMs}='${ms}' */`;
    const delayed = new Query({ ...config, text: `${config.text as string}${comment}` } as ConstructorParameters<typeof Query>[0], undefined, callback as never);
    const submit = (delayed as unknown as { submit: Submit }).submit.bind(delayed);
    // pg calls submit when the statement's turn comes on this connection; sending it later keeps
    // the order (nothing else is sent until it completes) and the span (already started) open.
    (delayed as unknown as { submit: Submit }).submit = (wire) => {
      setTimeout(() => {
        const error = submit(wire);
        if (error) (delayed as unknown as { handleError(e: Error, c: unknown): void }).handleError(error, wire);
      }, ms);
      return null;
    };
    return query.call(this, delayed);
  };
}
