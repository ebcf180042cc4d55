// Spike: calm, then a sudden burst of 10x the rate, then calm again. Watches that latency comes
// back down after the burst (the outbox absorbs it; Kafka and delivery catch up later).
//   k6 run -e BASE_URL=http://127.0.0.1:3000 -e BASE_RATE=50 load/k6/spike.js
import { uniqueMessage, postMessage, checkAccepted } from './messages.js';

const BASE = Number(__ENV.BASE_RATE || 50);

export const options = {
  scenarios: {
    spike: {
      executor: 'ramping-arrival-rate',
      startRate: BASE,
      timeUnit: '1s',
      preAllocatedVUs: 50,
      maxVUs: 500,
      stages: [
        { target: BASE, duration: '20s' },
        { target: BASE * 10, duration: '5s' }, // the spike
        { target: BASE * 10, duration: '20s' },
        { target: BASE, duration: '5s' },
        { target: BASE, duration: '20s' }, // recovery
      ],
    },
  },
  thresholds: {
    http_req_failed: ['rate<0.02'], // 429s are not expected: every recipient is unique
    'http_req_duration{name:POST /v1/messages}': ['p(95)<1000', 'p(99)<2000'],
    checks: ['rate>0.98'],
  },
};

export default function () {
  checkAccepted(postMessage(uniqueMessage()));
}
