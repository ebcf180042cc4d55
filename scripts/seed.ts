/**
 * `npm run seed`: sample data for a running `npm start`. Creates (or reuses) merchant `demo`, gives
 * it a fresh send+read key and an admin key (printed once, here), sends one message per channel
 * (one of them fails twice before it is sent, to show retries in its trace), and prints what to try
 * next. Writes keys straight into router-service's database, like the operator CLI.
 *
 *   npm run seed                       # DATABASE_URL and ROUTER_URL default to npm start's
 */
import { randomBytes } from 'node:crypto';
import { createDb, ensureDatabase, migrate } from '@ca/postgres';
import { createKey, createTenant, findTenantByName } from '../router-service/src/auth/key-store';
import { routerMigrations } from '../router-service/src/db/migrations';
import { createConsoleUser, findConsoleUser, setConsolePassword } from '../router-service/src/console/user-store';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/comm_aggregator';
const ROUTER_URL = (process.env.ROUTER_URL ?? `http://127.0.0.1:${process.env.ROUTER_PORT ?? '3000'}`).replace(/\/+$/, '');
const LOGGING_URL = (process.env.LOGGING_URL ?? `http://127.0.0.1:${process.env.LOGGING_PORT ?? '4000'}`).replace(/\/+$/, '');
const MERCHANT = process.env.SEED_MERCHANT ?? 'demo';

const SAMPLES = [
  { channel: 'email', to: 'fail-transient.jane@example.com', subject: 'Welcome to Demo', body: 'Hello Jane! (this one fails twice, then is sent)' },
  { channel: 'sms', to: '+14155550100', body: 'Your Demo code is 428913' },
  { channel: 'whatsapp', to: '+447700900123', body: 'Your Demo order has shipped' },
  { channel: 'push', to: `${'d'.repeat(40)}:demo_device`, subject: 'Demo', body: 'Tap to see your order' },
];

async function main(): Promise<void> {
  const schema = process.env.DATABASE_SCHEMA ?? 'router';
  await ensureDatabase(DATABASE_URL);
  const db = createDb({ url: DATABASE_URL, schema });
  let keys: { send: string; admin: string };
  try {
    await migrate(db, schema, routerMigrations);
    const now = new Date();
    const tenant = (await findTenantByName(db, MERCHANT)) ?? (await createTenant(db, { name: MERCHANT, now }));
    const send = await createKey(db, { tenantId: tenant.id, scopes: ['send', 'read'], name: 'seed: send+read', now });
    const admin = await createKey(db, { tenantId: tenant.id, scopes: ['admin'], name: 'seed: admin', now });
    keys = { send: send.key, admin: admin.key };
    // A console user for the merchant; the password is new on every seed run and printed once.
    const email = process.env.SEED_CONSOLE_EMAIL ?? `${MERCHANT}@example.com`;
    const password = process.env.SEED_CONSOLE_PASSWORD ?? randomBytes(12).toString('base64url');
    if (await findConsoleUser(db, email)) await setConsolePassword(db, email, password);
    else await createConsoleUser(db, { tenantId: tenant.id, email, password, now });
    console.log(`  console:       ${ROUTER_URL}/console/ (https://localhost:${process.env.ROUTER_HTTPS_PORT ?? '3443'}/console/ in a browser)`);
    console.log(`                 email ${email}  password ${password}`);
    console.log(`merchant ${tenant.name} (${tenant.id})`);
    console.log(`  send+read key: ${send.key}`);
    console.log(`  admin key:     ${admin.key}`);
    console.log('  (shown once; only their SHA-256 is stored)\n');
  } finally {
    await db.destroy();
  }

  const sent: Array<{ channel: string; id: string; traceId: string }> = [];
  for (const [i, sample] of SAMPLES.entries()) {
    const res = await fetch(`${ROUTER_URL}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${keys.send}`, 'idempotency-key': `seed-${Date.now()}-${i}` },
      body: JSON.stringify(sample),
    });
    const body = (await res.json()) as { id: string; traceId: string; detail?: string };
    if (res.status !== 202) throw new Error(`POST /v1/messages answered ${res.status}: ${body.detail ?? JSON.stringify(body)}`);
    sent.push({ channel: sample.channel, id: body.id, traceId: body.traceId });
    console.log(`sent ${sample.channel.padEnd(8)} ${body.id}  trace ${body.traceId}`);
  }

  const first = sent[0]!;
  console.log(`
Try next:
  export KEY=${keys.send}
  # status of the email (it fails twice, then is sent)
  curl -s ${ROUTER_URL}/v1/messages/${first.id} -H "Authorization: Bearer $KEY"
  # its trace as JSON, and as a waterfall (open without a key while logging-service is on loopback)
  curl -s ${LOGGING_URL}/v1/traces/${first.traceId} -H "Authorization: Bearer $KEY"
  ${LOGGING_URL}/traces/${first.traceId}
  # over HTTPS (npm start's self-signed certificate)
  curl -sk https://localhost:${process.env.ROUTER_HTTPS_PORT ?? '3443'}/v1/messages -H "Authorization: Bearer $KEY" \\
    -H 'Content-Type: application/json' -d '{"channel":"sms","to":"+14155550101","body":"over HTTPS"}'
  # the merchant's keys (admin scope)
  curl -s ${ROUTER_URL}/v1/keys -H "Authorization: Bearer ${keys.admin}"
  # the Postman collection
  ROUTER_URL=${ROUTER_URL} LOGGING_URL=${LOGGING_URL} API_KEY=$KEY node postman/run.mjs`);
}

main().catch((err: unknown) => {
  console.error(`seed failed: ${(err as Error).message} (is \`npm start\` running?)`);
  process.exit(1);
});
