import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { Client } from 'pg';
import { parse } from 'yaml';
import { TEST_DATABASE_URL, freePort, testBrokers, uniquePrefix, waitFor } from '@ca/testing';
import { startFakeElasticsearch } from '../../logging-service/test/sinks/fake-elasticsearch';
import { copyContext, copyInto, dockerignore, emulateProductionInstall, execForm, parseCopy, parseDockerfile, parseEnv, runBuildStep, type Stage } from './dockerfile';

/**
 * Each service's image, rebuilt on the host from its Dockerfile: the build stage is the build
 * context (the repository minus .dockerignore) with its RUN build steps run for real, the deps
 * stage is what `npm ci --omit=dev` installs, and the runtime stage's COPY/WORKDIR/ENV/CMD lines
 * are replayed into an empty folder. The service then starts from that folder with its CMD against
 * the local PostgreSQL and the test broker. A file the service reads at run time that the image
 * does not carry (an index template, a workspace package's compiled output, a production
 * dependency declared as dev) makes it exit instead of answering /health.
 */

const ROOT = join(__dirname, '../..');
const SERVICES = ['router-service', 'delivery-service', 'logging-service'] as const;
type Service = (typeof SERVICES)[number];

interface Image {
  root: string;
  workdir: string;
  env: Record<string, string>;
  cmd: string[];
  healthcheck: string[] | null;
}

interface EmulatedStage {
  root: string;
  workdir: string;
}

const tmp = mkdtempSync(join(tmpdir(), 'image-layout-'));
const ignored = dockerignore(readFileSync(join(ROOT, '.dockerignore'), 'utf8'));
const builtStages = new Map<string, EmulatedStage>();

function workdirOf(stage: Stage): string {
  let cwd = '/';
  for (const ins of stage.instructions) if (ins.op === 'WORKDIR') cwd = posix.resolve(cwd, ins.args);
  return cwd;
}

/** The file tree a non-final stage leaves, emulated once per distinct stage text. */
function emulateStage(stage: Stage): EmulatedStage {
  const key = JSON.stringify(stage.instructions);
  const known = builtStages.get(key);
  if (known) return known;
  const root = join(tmp, `stage-${builtStages.size}-${stage.name}`);
  mkdirSync(root, { recursive: true });
  const runs = stage.instructions.filter((i) => i.op === 'RUN').map((i) => i.args);
  const copiesContext = stage.instructions.some((i) => i.op === 'COPY' && i.args === '. .');
  if (runs.length > 0 && runs.every((r) => /^npm ci\b.*--omit=dev/.test(r))) {
    emulateProductionInstall(ROOT, root);
  } else if (copiesContext) {
    copyContext(ROOT, root, ignored);
    for (const ins of stage.instructions) {
      if (ins.op === 'RUN' && /^npm ci\b/.test(ins.args)) {
        // `npm ci`: the checkout's own install (same lockfile).
        symlinkSync(join(ROOT, 'node_modules'), join(root, 'node_modules'));
      } else if (ins.op === 'RUN' && /^(npm run|npx) /.test(ins.args)) {
        runBuildStep(ins.args, root);
      } else if (ins.op === 'RUN') {
        throw new Error(`stage ${stage.name}: build step not emulated (teach test/images/dockerfile.ts): RUN ${ins.args}`);
      }
    }
  } else {
    throw new Error(`stage ${stage.name}: neither a production install nor a build of the context; not emulated`);
  }
  const emulated = { root, workdir: workdirOf(stage) };
  builtStages.set(key, emulated);
  return emulated;
}

/** Replays the final stage of a Dockerfile into an empty folder. */
function emulateImage(service: Service): Image {
  const stages = parseDockerfile(readFileSync(join(ROOT, service, 'Dockerfile'), 'utf8'));
  const runtime = stages[stages.length - 1]!;
  const root = join(tmp, `image-${service}`);
  const host = (containerPath: string) => join(root, containerPath);
  const image: Image = { root, workdir: '/', env: {}, cmd: [], healthcheck: null };
  for (const ins of runtime.instructions) {
    switch (ins.op) {
      case 'ENV':
        Object.assign(image.env, parseEnv(ins.args));
        break;
      case 'WORKDIR':
        image.workdir = posix.resolve(image.workdir, ins.args);
        mkdirSync(host(image.workdir), { recursive: true });
        break;
      case 'COPY': {
        const copy = parseCopy(ins.args);
        const dest = posix.resolve(image.workdir, copy.dest);
        const destIsDir = copy.dest.endsWith('/') || copy.sources.length > 1;
        for (const source of copy.sources) {
          if (copy.from === null) {
            throw new Error(`${service}: COPY from the build context into the runtime stage is not emulated: ${ins.args}`);
          }
          const from = stages.find((s) => s.name === copy.from);
          if (!from) throw new Error(`${service}: COPY --from=${copy.from}: no such stage`);
          const stage = emulateStage(from);
          const rel = posix.relative(stage.workdir, posix.resolve(stage.workdir, source));
          if (rel.startsWith('..')) throw new Error(`${service}: COPY source ${source} is outside stage ${from.name}'s WORKDIR ${stage.workdir}`);
          copyInto(join(stage.root, rel), host(dest), destIsDir);
        }
        break;
      }
      case 'CMD':
        image.cmd = execForm(ins.args);
        break;
      case 'HEALTHCHECK': {
        const cmd = /\bCMD\s+(\[.*\])\s*$/.exec(ins.args);
        image.healthcheck = cmd ? execForm(cmd[1]!) : null;
        break;
      }
      case 'USER':
      case 'EXPOSE':
      case 'ARG':
      case 'LABEL':
        break;
      default:
        throw new Error(`${service}: runtime instruction ${ins.op} is not emulated`);
    }
  }
  assert.ok(image.cmd.length > 0, `${service}: the runtime stage has a CMD`);
  return image;
}

function start(image: Image, env: Record<string, string>): { child: ChildProcess; output: () => string } {
  const [bin, ...args] = image.cmd;
  // Only what the image and compose would give it: no tsx, no test-runner variables.
  const child = spawn(bin === 'node' ? process.execPath : bin!, args, {
    cwd: join(image.root, image.workdir),
    env: { PATH: process.env.PATH ?? '', HOME: tmp, ...image.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => { output += c.toString(); });
  child.stderr!.on('data', (c: Buffer) => { output += c.toString(); });
  return { child, output: () => output.slice(-4000) };
}

const images = new Map<Service, Image>();
const schemas: string[] = [];

before(() => {
  for (const service of SERVICES) images.set(service, emulateImage(service));
});

after(async () => {
  rmSync(tmp, { recursive: true, force: true });
  const client = new Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await client.end();
});

describe('every image carries what its service reads at run time', { concurrency: SERVICES.length }, () => {
  for (const service of SERVICES) {
    it(`${service}: starts from its emulated image with plain node, answers /health and its HEALTHCHECK, stops cleanly`, { timeout: 240_000 }, async (t) => {
      const image = images.get(service)!;
      assert.equal(image.cmd[0], 'node', 'plain node, no TypeScript loader');
      assert.ok(!image.cmd.some((a) => /tsx|ts-node|\.ts$/.test(a)), `runs compiled JavaScript: ${image.cmd.join(' ')}`);
      const shipped = readdirSync(join(image.root, image.workdir));
      assert.ok(!shipped.includes('src'), `${service} image carries no TypeScript sources`);

      const port = await freePort();
      const schema = `img_${randomUUID().replace(/-/g, '').slice(0, 8)}_${service.split('-')[0]}`;
      schemas.push(schema);
      const env: Record<string, string> = {
        PORT: String(port),
        DATABASE_URL: TEST_DATABASE_URL,
        DATABASE_SCHEMA: schema,
        KAFKA_BROKERS: (await testBrokers()).join(','),
        KAFKA_TOPIC_PREFIX: uniquePrefix(),
        KAFKA_MAX_WAIT_MS: '100',
        OTEL_EXPORTER_OTLP_ENDPOINT: '',
        LOG_LEVEL: 'warn',
      };
      // As compose runs it: with Elasticsearch, so the index templates are read at start.
      const es = service === 'logging-service' ? await startFakeElasticsearch() : null;
      if (es) {
        env.ELASTICSEARCH_URL = es.url;
        t.after(() => es.close());
      }

      const started = Date.now();
      const { child, output } = start(image, env);
      t.after(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      // Done waiting when it answers or when it has exited (then fail at once, with its output).
      await waitFor(`${service} /health from its image`, async () => child.exitCode !== null || fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok, () => false), 180_000, 100);
      assert.equal(child.exitCode, null, `${service} exited with ${child.exitCode} before answering /health:\n${output()}`);
      t.diagnostic(`${service} healthy ${Date.now() - started} ms after start (compiled, emulated image)`);

      if (es) {
        const templates = readdirSync(join(ROOT, 'logging-service/elasticsearch/index-templates')).filter((f) => f.endsWith('.json'));
        assert.deepEqual([...es.templates.keys()].sort(), templates.map((f) => f.replace(/\.json$/, '')).sort());
      }
      if (image.healthcheck) {
        const [bin, ...args] = image.healthcheck;
        const probe = spawnSync(bin === 'node' ? process.execPath : bin!, args, { cwd: join(image.root, image.workdir), env: { PATH: process.env.PATH ?? '', ...image.env, ...env }, timeout: 10_000 });
        assert.equal(probe.status, 0, `HEALTHCHECK command exits 0: ${probe.stderr?.toString()}`);
      }

      child.kill('SIGTERM');
      assert.equal(await exited, 0, `${service} shuts down cleanly on SIGTERM:\n${output()}`);
    });
  }
});

describe('compose services that reuse an image start from it with their own command', () => {
  it('provider-sim: the delivery-service image with compose\'s command answers /health and compose\'s healthcheck, stops cleanly', { timeout: 240_000 }, async (t) => {
    const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as {
      services: Record<string, { image?: string; command?: string[]; environment?: Record<string, unknown>; healthcheck?: { test?: string[] } }>;
    };
    const sim = compose.services['provider-sim']!;
    assert.equal(sim.image, compose.services['delivery-service']!.image, 'provider-sim runs the delivery-service image');
    assert.ok(Array.isArray(sim.command) && sim.command[0] === 'node', `plain node: ${JSON.stringify(sim.command)}`);
    const image = { ...images.get('delivery-service')!, cmd: sim.command };
    const port = await freePort();
    const schema = `img_${randomUUID().replace(/-/g, '').slice(0, 8)}_sim`;
    schemas.push(schema);
    const { child, output } = start(image, {
      PROVIDER_SIM_PORT: String(port), DATABASE_URL: TEST_DATABASE_URL, PROVIDER_SIM_SCHEMA: schema,
      OTEL_EXPORTER_OTLP_ENDPOINT: '', LOG_LEVEL: 'warn',
    });
    t.after(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await waitFor('provider-sim /health from the delivery image', async () => child.exitCode !== null || fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok, () => false), 180_000, 100);
    assert.equal(child.exitCode, null, `provider-sim exited with ${child.exitCode} before answering /health:\n${output()}`);
    // Compose's healthcheck, on the port this test gave it (compose uses the fixed PROVIDER_SIM_PORT).
    const [kind, bin, ...args] = sim.healthcheck!.test!;
    assert.equal(kind, 'CMD');
    assert.equal(sim.environment!.PROVIDER_SIM_PORT, 3002);
    const probe = spawnSync(bin === 'node' ? process.execPath : bin!, args.map((a) => a.replace(':3002/', `:${port}/`)), { timeout: 10_000 });
    assert.equal(probe.status, 0, `compose healthcheck exits 0: ${probe.stderr?.toString()}`);
    child.kill('SIGTERM');
    assert.equal(await exited, 0, `provider-sim shuts down cleanly on SIGTERM:\n${output()}`);
  });
});
