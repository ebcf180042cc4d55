#!/usr/bin/env node
// Summarises the .cpuprofile files in a directory (written by `node load/bench.mjs --profile DIR`):
// per process, self time by owner (npm package, node core, our packages, GC, native calls) and
// inclusive time by owner (a sample counts once for every owner on its stack), as shares of the
// process's active (non-idle) samples. Prints markdown.
//
//   node load/profile-summary.mjs DIR [--top N]
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values: opt, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '14' } } });
const dir = positionals[0];
if (!dir) { console.error('usage: node load/profile-summary.mjs DIR [--top N]'); process.exit(2); }
const top = Number(opt.top);

function owner(frame) {
  const { url, functionName } = frame;
  if (!url) {
    if (functionName === '(garbage collector)') return 'GC';
    if (functionName === '(program)' || functionName === '(idle)' || functionName === '(root)') return functionName;
    return `native ${functionName || '(anonymous)'}`;
  }
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (url.startsWith('node:')) return 'node core';
  const ours = url.match(/\/(packages\/[^/]+|router-service|delivery-service|logging-service)\//);
  if (ours) return `ours: ${ours[1]}`;
  return 'other';
}

const pct = (n, d) => `${((100 * n) / d).toFixed(1)} %`;
for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort()) {
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map();
  const incl = new Map();
  let active = 0;
  const ms = (profile.endTime - profile.startTime) / 1000;
  const perSample = ms / profile.samples.length;
  for (const id of profile.samples) {
    const node = byId.get(id);
    const o = owner(node.callFrame);
    if (o === '(idle)' || o === '(root)') continue;
    active++;
    self.set(o, (self.get(o) ?? 0) + 1);
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const oo = owner(byId.get(cur).callFrame);
      if (!seen.has(oo)) { seen.add(oo); incl.set(oo, (incl.get(oo) ?? 0) + 1); }
    }
  }
  const rows = (m) => [...m].filter(([o]) => !o.startsWith('(')).sort((a, b) => b[1] - a[1]).slice(0, top);
  console.log(`\n#### ${file}: ${(active * perSample / 1000).toFixed(1)} s active of ${(ms / 1000).toFixed(1)} s profiled\n`);
  console.log('| self time | share | | inclusive (on the stack) | share |\n| --- | --- | --- | --- | --- |');
  const s = rows(self);
  const i = rows(incl);
  for (let k = 0; k < Math.max(s.length, i.length); k++) {
    console.log(`| ${s[k]?.[0] ?? ''} | ${s[k] ? pct(s[k][1], active) : ''} | | ${i[k]?.[0] ?? ''} | ${i[k] ? pct(i[k][1], active) : ''} |`);
  }
}
