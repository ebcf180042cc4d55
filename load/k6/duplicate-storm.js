// Duplicate storm: many users send the same few messages (a client retrying in a loop, a
// double-clicked button). Exactly one 202 per distinct message; the rest are 409 duplicates (or
// 429 once a recipient's per-minute limit is spent). With one Idempotency-Key: 202 replays.
//   k6 run -e BASE_URL=http://127.0.0.1:3000 load/k6/duplicate-storm.js
import { check } from 'k6';
import { Counter } from 'k6/metrics';
import { postMessage } from './messages.js';

const RUN = Date.now().toString(36);
const DISTINCT = 20;
const accepted = new Counter('accepted_202');
const duplicates = new Counter('duplicate_409');
const replays = new Counter('idempotent_replays');

export const options = {
  scenarios: {
    content: { executor: 'shared-iterations', vus: 50, iterations: 2000, maxDuration: '60s', exec: 'content' },
    sameKey: { executor: 'shared-iterations', vus: 50, iterations: 1000, maxDuration: '60s', exec: 'sameKey', startTime: '1s' },
  },
  thresholds: {
    accepted_202: [`count==${DISTINCT + 1}`], // one per distinct message + the keyed one
    'http_req_duration{name:POST /v1/messages}': ['p(95)<300', 'p(99)<800'],
    checks: ['rate>0.99'],
  },
};

function message(i) {
  return { channel: 'email', to: `storm-${RUN}-${i}@example.com`, subject: `Storm ${RUN}`, body: `Same text ${RUN} ${i}` };
}

export function content() {
  const res = postMessage(message(__ITER % DISTINCT));
  if (res.status === 202) accepted.add(1);
  if (res.status === 409) duplicates.add(1);
  check(res, { '202, 409 duplicate or 429 limited': (r) => [202, 409, 429].includes(r.status) });
}

export function sameKey() {
  const res = postMessage(message('keyed'), { 'Idempotency-Key': `storm-${RUN}` });
  if (res.status === 202 && res.headers['Idempotent-Replayed'] !== 'true') accepted.add(1);
  if (res.headers['Idempotent-Replayed'] === 'true') replays.add(1);
  check(res, { '202 (first or replay) or 409 in flight': (r) => r.status === 202 || r.status === 409 });
}
