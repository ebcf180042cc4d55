/**
 * Campaign CSV benchmark (issue 13's target: 10,000 rows accepted in ≤ 10 s on this box). Starts the
 * whole system as `npm start` does (packages/testing startSystem), then per run: creates a campaign,
 * uploads a generated 10,000-row CSV (email + two parameters, streamed to POST
 * /v1/campaigns/:id/recipients) and times until the 201 with its report (every row parsed, validated
 * and stored). The first campaign is then started and timed until all its recipients are messages in
 * the outbox (fan-out) and, with --wait-sent, until all are `sent` (end to end, from its counts).
 *
 *   node --import tsx load/campaign-csv.ts [--rows 10000] [--runs 3] [--no-send] [--wait-sent]
 */
import { parseArgs } from 'node:util';
import { startSystem, waitFor } from '@ca/testing';

const { values } = parseArgs({ options: { rows: { type: 'string', default: '10000' }, runs: { type: 'string', default: '3' }, 'no-send': { type: 'boolean', default: false }, 'wait-sent': { type: 'boolean', default: false } } });
const ROWS = Number(values.rows);
const RUNS = Number(values.runs);

function csv(rows: number, run: number): string {
  const lines = ['email,firstName,orderId'];
  for (let i = 1; i <= rows; i++) lines.push(`bench${run}.user${i}@example.com,Ann${i},order-${run}-${i}`);
  return `${lines.join('\n')}\n`;
}

async function main(): Promise<void> {
  const system = await startSystem({ database: 'comm_aggregator_campaign_bench', env: { LOG_LEVEL: 'warn' } });
  const auth = { authorization: `Bearer ${system.apiKey}` };
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${system.urls.router}${path}`, { method, headers: { ...auth, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    const json = (await res.json()) as Record<string, unknown>;
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  try {
    const timings: number[] = [];
    let first = '';
    for (let run = 1; run <= RUNS; run++) {
      const campaign = await api('POST', '/v1/campaigns', { name: `bench ${run}`, channel: 'email', subject: 'Order {{orderId}}', body: 'Hi {{firstName}}, your order {{orderId}} has shipped.' });
      const body = csv(ROWS, run);
      const started = performance.now();
      const res = await fetch(`${system.urls.router}/v1/campaigns/${campaign.id as string}/recipients`, { method: 'POST', headers: { ...auth, 'content-type': 'text/csv' }, body });
      const report = (await res.json()) as { accepted: number; rejectedCount: number };
      const ms = performance.now() - started;
      if (res.status !== 201 || report.accepted !== ROWS) throw new Error(`upload ${run}: ${res.status} ${JSON.stringify(report)}`);
      timings.push(ms);
      first ||= campaign.id as string;
      console.log(`run ${run}: ${ROWS} rows (${(body.length / 1024 / 1024).toFixed(2)} MB) accepted in ${(ms / 1000).toFixed(2)} s = ${Math.round(ROWS / (ms / 1000))} rows/s`);
    }
    const sorted = [...timings].sort((a, b) => a - b);
    console.log(`upload: median ${(sorted[Math.floor(sorted.length / 2)]! / 1000).toFixed(2)} s, worst ${(sorted[sorted.length - 1]! / 1000).toFixed(2)} s for ${ROWS} rows (target ≤ 10 s)`);

    if (!values['no-send']) {
      const t0 = performance.now();
      await api('POST', `/v1/campaigns/${first}/start`, {});
      await waitFor('every recipient turned into a message', async () => {
        const queued = (await api('GET', `/v1/campaigns/${first}/messages?status=queued&limit=1`)) as { messages: unknown[] };
        return queued.messages.length === 0;
      }, 600_000, 250);
      const enqueuedAt = performance.now();
      console.log(`fan-out: ${ROWS} messages (+ outbox rows) written ${((enqueuedAt - t0) / 1000).toFixed(2)} s after start = ${Math.round(ROWS / ((enqueuedAt - t0) / 1000))} msg/s`);
      if (values['wait-sent']) {
        await waitFor('every recipient sent', async () => ((await api('GET', `/v1/campaigns/${first}`)) as { counts: { sent: number } }).counts.sent === ROWS, 1_800_000, 1000);
        const done = performance.now();
        console.log(`end to end: all ${ROWS} sent ${((done - t0) / 1000).toFixed(2)} s after start = ${Math.round(ROWS / ((done - t0) / 1000))} msg/s (delivery-service's pace on this box)`);
      }
    }
  } finally {
    await system.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
