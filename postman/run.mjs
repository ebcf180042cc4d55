#!/usr/bin/env node
// Runs the Postman collection with newman's Node API against running services.
//
//   node postman/run.mjs                         # URLs from local.postman_environment.json
//   ROUTER_URL=http://127.0.0.1:3000 LOGGING_URL=http://127.0.0.1:4000 node postman/run.mjs
//   node postman/run.mjs --folder "2 Send"       # one folder (repeatable)
//
// Environment: ROUTER_URL, DELIVERY_URL, LOGGING_URL, API_KEY (a key with send+read scopes, e.g.
// from `npm run seed`) and ADMIN_API_KEY (admin scope, for the "9 API keys" folder; default API_KEY) override the environment file;
// REQUEST_TIMEOUT_MS (default 10000) bounds every request. Exits 1 on any failed test or error.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const require = createRequire(import.meta.url);
const newman = require('newman');

const here = (file) => fileURLToPath(new URL(file, import.meta.url));
const { values } = parseArgs({ options: { folder: { type: 'string', multiple: true } } });

const overrides = [
  ['routerUrl', process.env.ROUTER_URL],
  ['deliveryUrl', process.env.DELIVERY_URL],
  ['loggingUrl', process.env.LOGGING_URL],
  ['apiKey', process.env.API_KEY],
  ['adminKey', process.env.ADMIN_API_KEY],
].filter(([, value]) => value).map(([key, value]) => ({ key, value: value.replace(/\/+$/, '') }));

newman.run(
  {
    collection: here('./communication-aggregator.postman_collection.json'),
    environment: here('./local.postman_environment.json'),
    envVar: overrides,
    folder: values.folder,
    reporters: ['cli'],
    timeoutRequest: Number(process.env.REQUEST_TIMEOUT_MS ?? 10_000),
    // Polling requests re-run themselves with setNextRequest; this bounds a whole run regardless.
    timeout: 300_000,
  },
  (err, summary) => {
    if (err) {
      console.error(`newman could not run the collection: ${err.message}`);
      process.exit(1);
    }
    const { failures, stats } = summary.run;
    const failed = failures.length > 0 || Boolean(summary.error) || stats.requests.failed > 0;
    console.log(`${stats.assertions.total - stats.assertions.failed} passed, ${stats.assertions.failed} failed (assertions); ` +
      `${stats.requests.total} requests, ${failures.length} failure(s)`);
    process.exit(failed ? 1 : 0);
  },
);
