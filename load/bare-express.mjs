#!/usr/bin/env node
// The ceiling: a bare express 5 JSON POST endpoint with nothing behind it (no validation, no
// PostgreSQL, no telemetry). load/run.mjs --baseline measures it on the same machine, so the
// router's numbers read as "what our work costs" rather than as absolute figures.
//
//   node load/bare-express.mjs [port]          (default 3999; 0 = any free port)
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const express = require('express');

/** Starts the endpoint on 127.0.0.1:port; resolves with its URL and a close function. */
export function startBareExpress(port = 0) {
  const app = express();
  app.disable('x-powered-by');
  app.get('/health', (_req, res) => res.json({ status: 'ok', service: 'bare-express' }));
  app.post('/v1/messages', express.json({ limit: '256kb' }), (req, res) => {
    const id = randomUUID();
    res.status(202).location(`/v1/messages/${id}`).json({ id, status: 'pending', channel: req.body?.channel ?? null });
  });
  return new Promise((resolve, reject) => {
    const server = app.listen(port, '127.0.0.1', () => {
      const { port: actual } = server.address();
      resolve({
        url: `http://127.0.0.1:${actual}`,
        close: () => new Promise((done) => { server.closeAllConnections?.(); server.close(() => done()); }),
      });
    });
    server.once('error', reject);
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const port = Number(process.argv[2] ?? process.env.PORT ?? 3999);
  const { url, close } = await startBareExpress(port);
  console.log(`bare express 5 listening on ${url} (POST /v1/messages)`);
  const stop = () => { void close().then(() => process.exit(0)); };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
