// Shared by the k6 scenarios: request bodies and checks. Every body has a unique recipient and
// text, so neither content dedup (409) nor the per-recipient rate limit (429) interferes.
import http from 'k6/http';
import { check } from 'k6';

export const BASE_URL = (__ENV.BASE_URL || 'http://127.0.0.1:3000').replace(/\/+$/, '');
const RUN = `${Date.now().toString(36)}`;
const CHANNELS = ['email', 'sms', 'whatsapp', 'push'];

function phone(n) {
  let tail = n % 10000000;
  if ([9991, 9992, 9993].includes(tail % 10000)) tail += 10; // forced-failure numbers
  return `+1555${String(tail).padStart(7, '0')}`;
}

/** A message nobody has sent before: VU and iteration numbers make it unique within the run. */
export function uniqueMessage() {
  const n = __VU * 1000000 + __ITER;
  const channel = CHANNELS[n % CHANNELS.length];
  const text = `k6 ${RUN} vu ${__VU} iter ${__ITER}`;
  if (channel === 'email') return { channel, to: `k6-${RUN}-${n}@example.com`, subject: `k6 ${RUN}`, body: text };
  if (channel === 'push') return { channel, to: `k6-token-${RUN}-${String(n).padStart(24, '0')}`, body: text };
  return { channel, to: phone(n), body: text };
}

export function postMessage(message, headers = {}) {
  return http.post(`${BASE_URL}/v1/messages`, JSON.stringify(message), {
    headers: { 'Content-Type': 'application/json', ...headers },
    tags: { name: 'POST /v1/messages' },
  });
}

export function checkAccepted(res) {
  return check(res, {
    'status 202': (r) => r.status === 202,
    'has id and traceId': (r) => {
      const b = r.json();
      return Boolean(b && b.id && b.traceId && b.status === 'pending');
    },
  });
}
