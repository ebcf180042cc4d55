/**
 * Operator CLI (an entry point like main.ts, so it may read process.env): merchants and API keys
 * straight in router-service's database, for bootstrapping and support. Secrets are printed once,
 * to stdout, and never logged.
 *
 *   npm run -w router-service merchant -- create acme [--scopes send,read,admin]
 *   npm run -w router-service merchant -- key acme [--scopes send,read] [--name ci] [--expires-in-days 90]
 *   npm run -w router-service merchant -- revoke <key-id>
 *   npm run -w router-service merchant -- limit acme --burst 500 --per-second 200   (or: --default)
 *   npm run -w router-service merchant -- list
 *   npm run -w router-service merchant -- user acme ops@acme.example [--password P]   (console sign-in; else read from stdin)
 *   npm run -w router-service merchant -- password ops@acme.example [--password P]
 */
import { parseArgs } from 'node:util';
import { createDb, ensureDatabase, migrate } from '@ca/postgres';
import { isScope, type Scope } from './auth/api-key';
import { createKey, createTenant, findTenantByName, listKeys, setTenantRateLimit } from './auth/key-store';
import { addSeconds, systemClock } from './clock';
import { loadConfig } from './config';
import { routerMigrations } from './db/migrations';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from './console/password';
import { createConsoleUser, findConsoleUser, setConsolePassword } from './console/user-store';

const USAGE = 'usage: merchant create <name> | key <merchant> | revoke <key-id> | limit <merchant> | list | user <merchant> <email> | password <email> [--password P]  [--scopes send,read,admin] [--name N] [--expires-in-days D] [--burst B --per-second R | --default]';

function scopesOf(raw: string | undefined): Scope[] {
  const list = (raw ?? 'send,read,admin').split(',').map((s) => s.trim()).filter(Boolean);
  const bad = list.filter((s) => !isScope(s));
  if (bad.length || !list.length) throw new Error(`unknown scope(s): ${bad.join(', ') || '(none given)'}; use send, read, admin`);
  return [...new Set(list)] as Scope[];
}

/** --password, or the first line of stdin (so it stays out of the shell history and `ps`). */
async function passwordOf(given: string | undefined): Promise<string> {
  let password = given;
  if (password === undefined) {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    password = Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
  }
  if (password.length < MIN_PASSWORD_LENGTH || password.length > MAX_PASSWORD_LENGTH) throw new Error(`a console password has ${MIN_PASSWORD_LENGTH}-${MAX_PASSWORD_LENGTH} characters`);
  return password;
}

async function run(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      scopes: { type: 'string' }, name: { type: 'string' }, 'expires-in-days': { type: 'string' },
      burst: { type: 'string' }, 'per-second': { type: 'string' }, default: { type: 'boolean' }, password: { type: 'string' },
    },
  });
  const [command, arg, arg2] = positionals;
  // Only the database settings matter here; Kafka is not used.
  const config = loadConfig({ KAFKA_BROKERS: 'unused:9092', ...process.env });
  await ensureDatabase(config.database.url);
  const db = createDb(config.database);
  try {
    await migrate(db, config.database.schema, routerMigrations);
    const now = systemClock.now();
    const tenantNamed = async (name: string | undefined) => {
      const tenant = name ? await findTenantByName(db, name) : undefined;
      if (!tenant) throw new Error(`no merchant named ${JSON.stringify(name ?? '')}`);
      return tenant;
    };
    const out = (value: unknown) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    switch (command) {
      case 'create': {
        if (!arg) throw new Error(USAGE);
        if (await findTenantByName(db, arg)) throw new Error(`a merchant named ${JSON.stringify(arg)} exists; add a key with: merchant key ${arg}`);
        const tenant = await createTenant(db, { name: arg, now });
        const created = await createKey(db, { tenantId: tenant.id, scopes: scopesOf(values.scopes), name: values.name ?? 'initial', now });
        out({ merchant: tenant, key: created.key, keyId: created.view.id, scopes: created.view.scopes, note: 'the key is shown once; store it now' });
        return;
      }
      case 'key': {
        const tenant = await tenantNamed(arg);
        const days = values['expires-in-days'] ? Number(values['expires-in-days']) : null;
        const created = await createKey(db, { tenantId: tenant.id, scopes: scopesOf(values.scopes), name: values.name ?? null, now, expiresAt: days ? addSeconds(now, days * 86_400) : null });
        out({ merchant: tenant, key: created.key, keyId: created.view.id, scopes: created.view.scopes, expiresAt: created.view.expiresAt });
        return;
      }
      case 'revoke': {
        const updated = await db('api_keys').where({ id: arg ?? '' }).update({ revoked_at: now });
        if (!updated) throw new Error(`no key with id ${JSON.stringify(arg ?? '')}`);
        out({ revoked: arg });
        return;
      }
      case 'limit': {
        const tenant = await tenantNamed(arg);
        const limit = values.default ? { burst: null, perSecond: null } : { burst: Number(values.burst), perSecond: Number(values['per-second']) };
        if (!values.default && !(limit.burst! >= 1 && limit.perSecond! >= 0)) throw new Error('--burst (>= 1) and --per-second (>= 0) are required, or --default');
        await setTenantRateLimit(db, tenant.id, limit);
        out({ merchant: tenant, rateLimit: limit });
        return;
      }
      case 'list': {
        const tenants = await db('tenants').select<Array<{ id: string; name: string }>>('id', 'name').orderBy('name');
        out(await Promise.all(tenants.map(async (t) => ({ ...t, keys: await listKeys(db, t.id) }))));
        return;
      }
      case 'user': {
        const tenant = await tenantNamed(arg);
        if (!arg2 || !arg2.includes('@')) throw new Error(USAGE);
        if (await findConsoleUser(db, arg2)) throw new Error(`a console user ${JSON.stringify(arg2)} exists; change its password with: merchant password ${arg2}`);
        const user = await createConsoleUser(db, { tenantId: tenant.id, email: arg2, password: await passwordOf(values.password), now });
        out({ merchant: tenant, consoleUser: user, signIn: '/console/' });
        return;
      }
      case 'password': {
        if (!arg || !(await setConsolePassword(db, arg, await passwordOf(values.password)))) throw new Error(`no console user ${JSON.stringify(arg ?? '')}`);
        out({ consoleUser: arg, password: 'changed; failed attempts and lockout cleared' });
        return;
      }
      default:
        throw new Error(USAGE);
    }
  } finally {
    await db.destroy();
  }
}

run(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(1);
});
