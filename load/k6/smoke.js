// Smoke: one user, a few messages, every endpoint answers. Run before any heavier scenario.
//   k6 run -e BASE_URL=http://127.0.0.1:3000 load/k6/smoke.js
import http from 'k6/http';
import { check, sleep } from 'k6';
import { BASE_URL, uniqueMessage, postMessage, checkAccepted } from './messages.js';

export const options = {
  vus: 1,
  iterations: 20,
  thresholds: {
    http_req_failed: ['rate<0.01'],
    'http_req_duration{name:POST /v1/messages}': ['p(95)<200', 'p(99)<500'],
    checks: ['rate>0.99'],
  },
};

export default function () {
  const res = postMessage(uniqueMessage());
  if (!checkAccepted(res)) return;
  const { id } = res.json();
  sleep(0.5);
  const status = http.get(`${BASE_URL}/v1/messages/${id}`, { tags: { name: 'GET /v1/messages/:id' } });
  check(status, {
    'status 200': (r) => r.status === 200,
    'known status': (r) => ['pending', 'sent', 'retrying', 'failed', 'dead_lettered'].includes(r.json('status')),
  });
}
