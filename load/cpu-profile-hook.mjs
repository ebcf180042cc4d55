// CPU profile hook for the benchmark (`node load/bench.mjs --profile DIR`). Loaded into each service with
// NODE_OPTIONS=--import (the `--cpu-prof` flag is not allowed in NODE_OPTIONS). The first SIGUSR2 starts
// the V8 sampling profiler, the second stops it and writes DIR/<process>-<pid>.cpuprofile (open it in
// Chrome DevTools or summarise it with `node load/profile-summary.mjs DIR`). Nothing happens until a signal
// arrives, so a loaded but idle hook costs nothing.
import { Session } from 'node:inspector/promises';
import { writeFileSync, mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';

const dir = process.env.CPU_PROFILE_DIR;
if (dir) {
  let session = null;
  let busy = false;
  const name = basename(process.cwd());
  process.on('SIGUSR2', () => {
    if (busy) return;
    busy = true;
    void (async () => {
      if (!session) {
        session = new Session();
        session.connect();
        await session.post('Profiler.setSamplingInterval', { interval: 1000 });
        await session.post('Profiler.enable');
        await session.post('Profiler.start');
      } else {
        const { profile } = await session.post('Profiler.stop');
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, `${name}-${process.pid}.cpuprofile`), JSON.stringify(profile));
        session.disconnect();
        session = null;
      }
    })().finally(() => { busy = false; });
  });
}
