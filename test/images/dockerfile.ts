/**
 * Just enough of a Dockerfile reader and a Docker build emulator for the image-layout test: the
 * stages, their WORKDIR/COPY/RUN/ENV/CMD/HEALTHCHECK lines, .dockerignore, and the file tree a
 * stage leaves behind, rebuilt on the host. Anything this does not understand throws, so a
 * Dockerfile change that the emulation cannot follow fails the test instead of passing it blindly.
 */
import { execSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { basename, dirname, join, posix, relative } from 'node:path';

export interface Instruction {
  op: string;
  args: string;
}

export interface Stage {
  name: string;
  instructions: Instruction[];
}

/** Stages in order; continuation lines joined, comments and the global ARGs dropped. */
export function parseDockerfile(text: string): Stage[] {
  const logical: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!current && (line === '' || line.startsWith('#'))) continue;
    if (line.startsWith('#')) continue; // a comment inside a continued instruction
    if (line.endsWith('\\')) {
      current += `${line.slice(0, -1)} `;
      continue;
    }
    logical.push(current + line);
    current = '';
  }
  const stages: Stage[] = [];
  for (const line of logical) {
    const match = /^(\w+)\s+([\s\S]*)$/.exec(line);
    if (!match) throw new Error(`cannot read Dockerfile line: ${line}`);
    const op = match[1]!.toUpperCase();
    const args = match[2]!.trim();
    if (op === 'FROM') {
      const named = /\bAS\s+(\S+)$/i.exec(args);
      stages.push({ name: named?.[1] ?? String(stages.length), instructions: [] });
    } else if (stages.length) {
      stages[stages.length - 1]!.instructions.push({ op, args });
    } else if (op !== 'ARG') {
      throw new Error(`${op} before the first FROM`);
    }
  }
  return stages;
}

export interface Copy {
  from: string | null;
  sources: string[];
  dest: string;
}

export function parseCopy(args: string): Copy {
  if (args.startsWith('[')) throw new Error('COPY in JSON form is not emulated');
  const tokens = args.split(/\s+/);
  let from: string | null = null;
  while (tokens[0]?.startsWith('--')) {
    const flag = tokens.shift()!;
    if (flag.startsWith('--from=')) from = flag.slice('--from='.length);
    else if (!/^--(chown|chmod)=/.test(flag)) throw new Error(`COPY flag ${flag} is not emulated`);
  }
  if (tokens.length < 2) throw new Error(`COPY needs a source and a destination: ${args}`);
  return { from, sources: tokens.slice(0, -1), dest: tokens[tokens.length - 1]! };
}

/** An exec-form CMD/ENTRYPOINT/HEALTHCHECK CMD: a JSON array of strings. */
export function execForm(args: string): string[] {
  const value = JSON.parse(args) as unknown;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new Error(`not an exec-form command: ${args}`);
  return value as string[];
}

/** `ENV K=V [K2=V2]` or the legacy `ENV K V`. */
export function parseEnv(args: string): Record<string, string> {
  if (!args.includes('=')) {
    const [key, ...rest] = args.split(/\s+/);
    return { [key!]: rest.join(' ') };
  }
  return Object.fromEntries(args.split(/\s+/).map((pair) => {
    const i = pair.indexOf('=');
    return [pair.slice(0, i), pair.slice(i + 1).replace(/^"(.*)"$/, '$1')];
  }));
}

/** .dockerignore as a predicate on context-relative paths (Go filepath.Match plus `**`, `!` re-includes). */
export function dockerignore(text: string): (path: string) => boolean {
  const rules = text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')).map((l) => {
    const negate = l.startsWith('!');
    const pattern = posix.normalize((negate ? l.slice(1) : l).replace(/^\/+/, '')).replace(/\/+$/, '');
    let re = '';
    for (let i = 0; i < pattern.length; i += 1) {
      const c = pattern[i]!;
      if (c === '*' && pattern[i + 1] === '*') {
        re += pattern[i + 2] === '/' ? '(?:.*/)?' : '.*';
        i += pattern[i + 2] === '/' ? 2 : 1;
      } else if (c === '*') re += '[^/]*';
      else if (c === '?') re += '[^/]';
      else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
    return { negate, re: new RegExp(`^${re}$`) };
  });
  return (path) => {
    const parts = path.split('/');
    let ignored = false;
    for (const rule of rules) {
      // A pattern that matches a folder excludes everything below it.
      for (let n = 1; n <= parts.length; n += 1) {
        if (rule.re.test(parts.slice(0, n).join('/'))) {
          ignored = !rule.negate;
          break;
        }
      }
    }
    return ignored;
  };
}

/** Copies the build context (the repository minus .dockerignore) into `dest`. */
export function copyContext(contextDir: string, dest: string, ignored: (path: string) => boolean): void {
  const walk = (rel: string) => {
    for (const entry of readdirSync(join(contextDir, rel), { withFileTypes: true })) {
      const path = rel ? `${rel}/${entry.name}` : entry.name;
      if (ignored(path)) continue;
      if (entry.isDirectory()) walk(path);
      else {
        mkdirSync(join(dest, rel), { recursive: true });
        cpSync(join(contextDir, path), join(dest, path), { verbatimSymlinks: true });
      }
    }
  };
  walk('');
}

/**
 * What `npm ci --omit=dev` leaves in node_modules, from package-lock.json: every non-dev package
 * at the top of a node_modules folder, as a symlink to the copy this checkout already installed
 * (a package's own dependencies come with it), and every workspace link as the same relative
 * symlink npm makes, so inside the emulated image it points at the image's own packages/ folder.
 */
export function emulateProductionInstall(repoDir: string, dest: string): void {
  const lock = JSON.parse(readFileSync(join(repoDir, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean; link?: boolean; resolved?: string }> };
  for (const [key, meta] of Object.entries(lock.packages)) {
    if (!key || meta.dev) continue;
    const top = /^(?:(.+)\/)?node_modules\/((?:@[^/]+\/)?[^/]+)$/.exec(key);
    if (!top || top[1]?.includes('node_modules')) continue; // nested: comes with its parent
    const installed = join(repoDir, key);
    const target = join(dest, key);
    mkdirSync(dirname(target), { recursive: true });
    if (meta.link && meta.resolved) symlinkSync(relative(dirname(target), join(dest, meta.resolved)), target);
    else if (existsSync(installed)) symlinkSync(installed, target); // absent: optional, other platform
  }
}

/** Docker COPY semantics for one source: a folder's contents go into dest, a file into dest/ or to dest. */
export function copyInto(source: string, dest: string, destIsDir: boolean): void {
  if (!existsSync(source)) throw new Error(`COPY source does not exist: ${source}`);
  if (statSync(source).isDirectory()) {
    mkdirSync(dest, { recursive: true });
    cpSync(source, dest, { recursive: true, verbatimSymlinks: true });
  } else {
    const target = destIsDir ? join(dest, basename(source)) : dest;
    mkdirSync(dirname(target), { recursive: true });
    cpSync(source, target);
  }
}

/** Runs a build RUN line of the image on the host, in the emulated stage folder. */
export function runBuildStep(command: string, cwd: string): void {
  execSync(command, { cwd, stdio: 'pipe', env: { ...process.env, npm_config_update_notifier: 'false' } });
}
