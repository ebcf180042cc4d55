import { Router } from 'express';

export type ReadinessCheck = () => Promise<void>;

/**
 * A check's own verdict, worded for the answer (`failed: <message>`). Anything else a check throws
 * (a driver's error, which may quote SQL or a connection string) is answered as `failed: unavailable`;
 * /ready is reachable by anyone who can reach the port.
 */
export class CheckFailed extends Error {}

/**
 * GET /health: the process is alive (no dependency checks, so an orchestrator does not restart a
 * healthy process because the database blinked). GET /ready: every dependency answered within
 * the deadline; 503 with the failing checks otherwise.
 */
export function healthRouter(service: string, checks: Record<string, ReadinessCheck>, timeoutMs = 2000): Router {
  const router = Router();
  router.get('/health', (_req, res) => {
    res.json({ status: 'ok', service });
  });
  router.get('/ready', async (_req, res) => {
    const results: Record<string, string> = {};
    await Promise.all(
      Object.entries(checks).map(async ([name, check]) => {
        try {
          await withTimeout(check(), timeoutMs);
          results[name] = 'ok';
        } catch (err) {
          results[name] = `failed: ${err instanceof CheckFailed ? err.message : 'unavailable'}`;
        }
      }),
    );
    const ready = Object.values(results).every((r) => r === 'ok');
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', service, checks: results });
  });
  return router;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new CheckFailed(`timed out after ${ms} ms`)), ms);
    p.then((v) => { clearTimeout(t); resolve(v); }, (e: unknown) => { clearTimeout(t); reject(e as Error); });
  });
}
