import type { AddressInfo } from 'node:net';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { createServiceApp, sealServiceApp } from '@ca/http';
import { createLogger } from '@ca/telemetry';
import { createMetricsExport, metricsRoute, type MetricsAccess } from '../src';

/** A MeterProvider with the Prometheus reader behind a real express app on port 0; `scrape()` GETs /metrics. */
export async function prometheusHarness(access: MetricsAccess = { token: null }, host = '127.0.0.1') {
  const { readers, prometheus } = createMetricsExport({ exporters: ['prometheus'], otlpEndpoint: '', exportIntervalMs: 60_000 });
  const provider = new MeterProvider({ readers });
  const app = createServiceApp();
  app.use(metricsRoute(prometheus, access));
  sealServiceApp(app, createLogger({ service: 'metrics-test', level: 'error' }));
  const server = app.listen(0, host);
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
  return {
    meter: provider.getMeter('test'),
    url,
    async scrape(headers: Record<string, string> = {}): Promise<string> {
      const res = await fetch(url, { headers });
      if (res.status !== 200) throw new Error(`GET /metrics answered ${res.status}: ${await res.text()}`);
      return res.text();
    },
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await provider.shutdown();
    },
  };
}

/** The value of the one sample `name{labels…}` in a Prometheus text exposition (labels matched as a subset). */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[4]);
  }
  return undefined;
}
