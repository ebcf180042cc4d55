// Steady load: a constant arrival rate of new messages for a fixed time.
//   k6 run -e BASE_URL=http://127.0.0.1:3000 -e RATE=200 -e DURATION=60s load/k6/send-now.js
import { uniqueMessage, postMessage, checkAccepted } from './messages.js';

const RATE = Number(__ENV.RATE || 100); // new messages per second
const DURATION = __ENV.DURATION || '60s';

export const options = {
  scenarios: {
    steady: {
      executor: 'constant-arrival-rate',
      rate: RATE,
      timeUnit: '1s',
      duration: DURATION,
      preAllocatedVUs: Math.max(10, Math.ceil(RATE / 10)),
      maxVUs: Math.max(50, RATE * 2),
    },
  },
  thresholds: {
    http_req_failed: ['rate<0.01'],
    'http_req_duration{name:POST /v1/messages}': ['p(95)<250', 'p(99)<500'],
    dropped_iterations: ['count<10'], // the arrival rate was actually offered
    checks: ['rate>0.99'],
  },
};

export default function () {
  checkAccepted(postMessage(uniqueMessage()));
}
