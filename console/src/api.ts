/**
 * The console talks to the same public /v1 API as a merchant's own code. The session cookie is
 * HttpOnly (this code never sees it); state changes carry the session's CSRF token, which lives in
 * memory only.
 */
export interface Problem {
  status: number;
  code: string;
  title: string;
  detail?: string;
  errors?: Array<{ field: string; message: string }>;
  /** TEMPLATE_PARAMS_MISSING: every parameter the template uses that the params lack. */
  missing?: string[];
}

export class ApiError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail ?? problem.title);
  }
}

let csrfToken: string | null = null;

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

export async function api<T>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  let payload: BodyInit | undefined;
  if (body !== undefined) {
    headers['content-type'] = contentType;
    payload = typeof body === 'string' || body instanceof Blob ? body : JSON.stringify(body);
  }
  const res = await fetch(path, { method, headers, body: payload, credentials: 'same-origin' });
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  const parsed: unknown = text ? JSON.parse(text) : {};
  if (!res.ok) {
    const p = parsed as Partial<Problem>;
    throw new ApiError({ status: res.status, code: p.code ?? 'ERROR', title: p.title ?? res.statusText, detail: p.detail, errors: p.errors, missing: p.missing });
  }
  return parsed as T;
}

export interface Session {
  user: { id: string; email: string };
  merchant: { id: string; name: string };
  csrfToken: string;
  expiresAt: string;
}

export interface ApiKey {
  id: string;
  name: string | null;
  prefix: string;
  scopes: string[];
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
}

export interface Counts {
  accepted: number;
  sent: number;
  failed: number;
  pending: number;
  canceled: number;
}

export interface Campaign {
  id: string;
  name: string;
  channel: 'email' | 'sms' | 'whatsapp' | 'push';
  subject: string | null;
  body: string;
  status: 'draft' | 'scheduled' | 'running' | 'completed' | 'canceled';
  sendAt: string | null;
  createdAt: string;
  startedAt: string | null;
  counts: Counts;
}

export interface Upload {
  id: string;
  rows: number;
  accepted: number;
  duplicates: number;
  rejectedCount: number;
  rejected: Array<{ line: number; reason: string }>;
  links: { report: string };
}

export interface CampaignMessage {
  line: number;
  to: string;
  userId: string | null;
  status: 'queued' | 'pending' | 'sent' | 'failed' | 'canceled';
  messageId: string | null;
  traceId: string | null;
  links: { message: string | null; trace: string | null; kibana: string | null };
}

export type Channel = 'email' | 'sms' | 'whatsapp' | 'push';

export interface ChannelVariant {
  subject?: string;
  text: string;
  html?: string;
}

export interface Template {
  templateId: string;
  version: number;
  category: string;
  defaultLocale: string;
  variants: Record<string, Partial<Record<Channel, ChannelVariant>>>;
  rateLimit: unknown;
  /** User-local HH:MM; non-urgent notifications inside the window wait for its end. */
  quietHours: { start: string; end: string } | null;
  createdAt: string;
}

export interface TemplatePreview {
  templateId: string;
  version: number;
  channel: Channel;
  locale: string;
  subject: string | null;
  text: string;
  html: string | null;
  sms: { encoding: string; segments: number; units: number } | null;
}

export function describe(err: unknown): string {
  if (err instanceof ApiError) {
    const fields = err.problem.errors?.map((e) => e.message).join('; ');
    return fields ? `${err.message}: ${fields}` : err.message;
  }
  return (err as Error).message ?? String(err);
}

/** GET /v1/dashboard and each `stats` event of /v1/dashboard/events. */
export interface Dashboard {
  since: string;
  at: string;
  windowMinutes: number;
  rows: Array<{
    channel: string;
    provider: string;
    sent: number;
    failed: number;
    retrying: number;
    pending: number;
    retries: number;
    sentRecently: number;
    successRate: number | null;
    sentPerMinute: number;
  }>;
}
