import type { SpanRecord } from '../otlp/model';
import { setLabel, truncate, type Labels, type NumericLabels } from './labels';
import { urlFields } from './url-fields';

/** gRPC status names (google.golang.org/grpc/codes String()). */
const GRPC_CODES = ['OK', 'Canceled', 'Unknown', 'InvalidArgument', 'DeadlineExceeded', 'NotFound', 'AlreadyExists', 'PermissionDenied', 'ResourceExhausted', 'FailedPrecondition', 'Aborted', 'OutOfRange', 'Unimplemented', 'Internal', 'Unavailable', 'DataLoss', 'Unauthenticated'];

export function statusOutcome(code: SpanRecord['status']['code']): string {
  return code === 'ok' ? 'success' : code === 'error' ? 'failure' : 'unknown';
}

export function httpStatusResult(status: number): string {
  const klass = Math.floor(status / 100);
  return klass >= 1 && klass <= 5 ? `HTTP ${klass}xx` : `HTTP ${status}`;
}

export interface TransactionFields {
  type: string;
  result: string;
  outcome: string;
  fields: Record<string, unknown>;
  queue?: string;
}

/**
 * apm-data TranslateTransaction (input/otlp/traces.go at v1.19.x, commit 6fb3770), extended with the stable semconv names
 * (http.request.method, url.*, server.*, messaging.destination.name) our instrumentations emit.
 */
export function transactionFields(span: SpanRecord, labels: Labels, numeric: NumericLabels): TransactionFields {
  let isHTTP = false, isRPC = false, isMessaging = false;
  let httpURL = '', httpPath = '', httpQuery = '', httpHost = '', httpScheme = '', serverName = '', netHostName = '', netHostPort = 0;
  let status = 0, grpcResult = '', typeAttr = '', queue = '';
  const http: Record<string, unknown> = {};
  const fields: Record<string, unknown> = {};
  const source: Record<string, unknown> = {};

  for (const [k, v] of Object.entries(span.attributes)) {
    const s = typeof v === 'string' ? truncate(v) : '';
    switch (k) {
      case 'http.status_code': case 'http.response.status_code': {
        const n = typeof v === 'number' ? v : Number(s);
        if (Number.isInteger(n) && n > 0) { isHTTP = true; status = n; } else setLabel(k, v, labels, numeric);
        break;
      }
      case 'http.method': case 'http.request.method': isHTTP = true; http.request = { method: s }; break;
      case 'http.url': case 'http.target': case 'http.path': case 'url.full': isHTTP = true; httpURL = s; break;
      case 'url.path': isHTTP = true; httpPath = s; break;
      case 'url.query': isHTTP = true; httpQuery = s; break;
      case 'http.host': isHTTP = true; httpHost = s; break;
      case 'http.scheme': case 'url.scheme': isHTTP = true; httpScheme = s; break;
      case 'http.flavor': case 'network.protocol.version': isHTTP = true; http.version = s; break;
      case 'http.server_name': isHTTP = true; serverName = s; break;
      case 'net.host.name': case 'server.address': netHostName = s; break;
      case 'net.host.port': case 'server.port': netHostPort = typeof v === 'number' ? v : Number(s) || 0; break;
      case 'http.client_ip': case 'client.address': fields.client = { ip: s }; break;
      case 'http.user_agent': case 'user_agent.original': fields.user_agent = { original: s }; break;
      case 'net.peer.ip': case 'network.peer.address': source.ip = s; break;
      case 'net.peer.port': case 'network.peer.port': source.port = typeof v === 'number' ? v : Number(s); break;
      case 'messaging.destination': case 'message_bus.destination': case 'messaging.destination.name': isMessaging = true; queue = s; break;
      // messaging.operation (old), messaging.operation.type / .name (semconv 1.26+) also make a
      // messaging transaction and are kept as labels, as apm-data does.
      case 'messaging.system': case 'messaging.operation': case 'messaging.operation.type': case 'messaging.operation.name':
        isMessaging = true; setLabel(k, v, labels, numeric); break;
      case 'rpc.system': case 'rpc.service': case 'rpc.method': isRPC = true; break;
      case 'rpc.grpc.status_code': isRPC = true; grpcResult = GRPC_CODES[Number(v)] ?? `Code(${String(v)})`; break;
      case 'type': typeAttr = s; break;
      default: setLabel(k, v, labels, numeric);
    }
  }

  let outcome = statusOutcome(span.status.code);
  let result = grpcResult;
  if (isHTTP) {
    if (status > 0) {
      http.response = { status_code: status };
      if (outcome === 'unknown') outcome = status >= 500 ? 'failure' : 'success';
      if (!result) result = httpStatusResult(status);
    }
    if (Object.keys(http).length) fields.http = http;
    let host = httpHost || serverName || netHostName;
    if (!httpHost && host && netHostPort > 0) host = `${host}:${netHostPort}`;
    const original = httpURL || (httpPath ? httpPath + (httpQuery ? `?${httpQuery}` : '') : '');
    if (original) fields.url = urlFields(original, host, httpScheme);
  }
  if (Object.keys(source).length) fields.source = source;
  if (!result) result = span.status.code === 'ok' ? 'Success' : span.status.code === 'error' ? 'Error' : '';
  // Still unknown (unset status, no HTTP status code): success with result "Success"
  // (apm-data v1.19 input/otlp/traces.go TranslateTransaction, commit 6fb3770, as in APM Server 8.19).
  if (outcome === 'unknown') {
    outcome = 'success';
    if (!result) result = 'Success';
  }
  const type = typeAttr || (isMessaging ? 'messaging' : isHTTP || isRPC ? 'request' : 'unknown');
  return { type, result, outcome, fields, ...(isMessaging && queue ? { queue } : {}) };
}
