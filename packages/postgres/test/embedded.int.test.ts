import test from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { freePort } from '@ca/testing';
import { embeddedPostgresBlockedAt, startEmbeddedPostgres } from '../src/embedded';

// What `npm start` does on a machine without PostgreSQL. Run as root (as CI and this box do), it
// also proves the data folder is handed to the `postgres` user, which the server requires.
test('the embedded PostgreSQL starts from npm, takes passwordless connections on loopback, and keeps its data across restarts', { timeout: 120_000 }, async (t) => {
  const parent = mkdtempSync(join(tmpdir(), 'embedded-pg-'));
  chmodSync(parent, 0o755); // mkdtemp makes it 0700; as root the postgres user must enter it
  t.after(() => rmSync(parent, { recursive: true, force: true }));
  const dataDir = join(parent, 'data');
  const port = await freePort();

  // Run as root from a checkout inside a folder only root may enter (mktemp -d makes 0700), the
  // server (run as `postgres`) cannot reach its binaries: what a user gets there is this error,
  // naming the folder and the two ways out, not a half-started server.
  const blocked = embeddedPostgresBlockedAt();
  if (blocked) {
    await assert.rejects(startEmbeddedPostgres({ dataDir, port }), (err: Error) => err.message.includes(`cannot enter ${blocked}`) && /DATABASE_URL/.test(err.message));
    t.diagnostic(`checkout not reachable by the postgres user (${blocked}): checked the error a user gets instead`);
    return;
  }

  const first = await startEmbeddedPostgres({ dataDir, port });
  try {
    if (process.getuid?.() === 0) assert.notEqual(statSync(dataDir).uid, 0, 'as root, the data folder belongs to the postgres user');
    const client = new Client({ connectionString: first.url });
    await client.connect();
    const { rows } = await client.query<{ server_version_num: string }>('SHOW server_version_num');
    assert.ok(Number(rows[0]!.server_version_num) >= 160_000, `a current PostgreSQL (${rows[0]!.server_version_num})`);
    await client.query('CREATE TABLE kept (v text)');
    await client.query(`INSERT INTO kept VALUES ('still here')`);
    await client.end();
  } finally {
    await first.stop();
  }

  const second = await startEmbeddedPostgres({ dataDir, port });
  try {
    const client = new Client({ connectionString: second.url });
    await client.connect();
    const { rows } = await client.query<{ v: string }>('SELECT v FROM kept');
    assert.deepEqual(rows, [{ v: 'still here' }]);
    await client.end();
  } finally {
    await second.stop();
  }
});
