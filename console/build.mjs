/**
 * Builds the merchant console (type-check, then Vite) into console/dist, which router-service
 * serves at /console/. Run by the root `prepare` (so `npm ci` builds it), by `npm run build`
 * (the router image's build stage), by `npm start` and by `npm test` (with --if-stale: only when a
 * source is newer than the last build). A production install (`npm ci --omit=dev`) has no Vite:
 * then there is nothing to build and this says so and exits 0.
 *
 * The new build is written beside dist/ and swapped in, so a router serving the old build (several
 * test systems share this folder) never sees a half-written one.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');
const require = createRequire(import.meta.url);

function newest(path) {
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((e) => newest(join(path, e))));
}

function isStale() {
  const built = join(dist, 'index.html');
  if (!existsSync(built)) return true;
  const sources = ['src', 'index.html', 'vite.config.ts', 'tsconfig.json', 'build.mjs'].map((p) => join(here, p)).filter(existsSync);
  return Math.max(...sources.map(newest)) > statSync(built).mtimeMs;
}

let vite;
try {
  require.resolve('vite');
  vite = await import('vite');
} catch {
  console.log('console: Vite is not installed (production install); nothing to build');
  process.exit(0);
}
if (process.argv.includes('--if-stale') && !isStale()) process.exit(0);

const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(here, 'tsconfig.json')], { stdio: 'inherit' });
if (tsc.status !== 0) {
  console.error('console: type-check failed');
  process.exit(1);
}
const next = join(here, `dist.next-${process.pid}`);
await vite.build({ root: here, configFile: join(here, 'vite.config.ts'), logLevel: 'warn', build: { outDir: next, emptyOutDir: true } });
const old = join(here, `dist.old-${process.pid}`);
if (existsSync(dist)) renameSync(dist, old);
renameSync(next, dist);
rmSync(old, { recursive: true, force: true });
console.log(`console: built into ${dist}`);
