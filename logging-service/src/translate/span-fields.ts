import type { SpanRecord } from '../otlp/model';
import { setLabel, truncate, type Labels, type NumericLabels } from './labels';
import { statusOutcome } from './transaction-fields';
import { parseUrl, schemeDefaultPort } from './url-fields';

export interface SpanFields {
  span: Record<string, unknown>;
  outcome: string;
  /** Top-level fields: http, url, destination. */
  fields: Record<string, unknown>;
  target?: { type: string; name?: string };
}

const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v) || 0);

/**
 * apm-data TranslateSpan (input/otlp/traces.go) for exit/internal spans: span.type/subtype/action,
 * span.db, span.message, destination.*, span.destination.service and service.target. Stable
 * semconv names (db.query.text, db.namespace, db.system.name, messaging.destination.name,
 * messaging.operation.type, server.*, url.full) are read as elastic/opentelemetry-lib's
 * enrichments/trace/elastic/span.go reads them.
 */
export function spanFields(span: SpanRecord, labels: Labels, numeric: NumericLabels): SpanFields {
  let netPeerName = '', netPeerIP = '', netPeerPort = 0, peerService = '', peerAddress = '';
  let httpURL = '', httpHost = '', httpTarget = '', httpScheme = 'http', status = 0;
  let msgSystem = '', msgOperation = '', msgOperationNew = '', queue = '', tempDestination = false;
  let rpcSystem = '', rpcService = '';
  let isHTTP = false, isDB = false, isRPC = false, isMessaging = false;
  const db: Record<string, unknown> = {};
  const http: Record<string, unknown> = {};

  for (const [k, v] of Object.entries(span.attributes)) {
    const s = typeof v === 'string' ? truncate(v) : '';
    switch (k) {
      case 'http.status_code': case 'http.response.status_code':
        if (num(v) > 0) { status = num(v); isHTTP = true; } else setLabel(k, v, labels, numeric);
        break;
      case 'net.peer.port': case 'peer.port': case 'server.port': netPeerPort = num(v); break;
      case 'http.host': httpHost = s; isHTTP = true; break;
      case 'http.scheme': case 'url.scheme': httpScheme = s; isHTTP = true; break;
      case 'http.target': httpTarget = s; isHTTP = true; break;
      case 'http.url': case 'url.full': httpURL = s; isHTTP = true; break;
      case 'http.method': case 'http.request.method': http.request = { method: s }; isHTTP = true; break;
      case 'sql.query': if (!db.type) db.type = 'sql'; db.statement = v; isDB = true; break; // statements are not truncated
      case 'db.statement': case 'db.query.text': db.statement = v; isDB = true; break;
      case 'db.name': case 'db.namespace': case 'db.instance': case 'db.elasticsearch.cluster.name': db.instance = s; isDB = true; break;
      case 'db.system': case 'db.system.name': case 'db.type': db.type = s; isDB = true; break;
      case 'db.user': db.user = { name: s }; isDB = true; break;
      case 'net.peer.name': case 'peer.hostname': case 'server.address': netPeerName = s; break;
      case 'net.peer.ip': case 'peer.ipv4': case 'peer.ipv6': case 'network.peer.address': netPeerIP = s; break;
      case 'peer.address': peerAddress = s; break;
      case 'messaging.destination': case 'message_bus.destination': case 'messaging.destination.name': queue = s; isMessaging = true; break;
      case 'messaging.operation': msgOperation = s; isMessaging = true; break;
      case 'messaging.operation.type': msgOperationNew = s; isMessaging = true; break;
      case 'messaging.operation.name': isMessaging = true; setLabel(k, v, labels, numeric); break;
      case 'messaging.system': msgSystem = s; isMessaging = true; break;
      case 'messaging.temp_destination': case 'messaging.destination.temporary':
        tempDestination = v === true; isMessaging = true; setLabel(k, v, labels, numeric); break;
      case 'rpc.system': rpcSystem = s; isRPC = true; break;
      case 'rpc.service': rpcService = s; isRPC = true; break;
      case 'rpc.grpc.status_code': rpcSystem = 'grpc'; isRPC = true; break;
      case 'rpc.method': case 'span.kind': break;
      case 'peer.service': peerService = s; break;
      default: setLabel(k, v, labels, numeric);
    }
  }

  if (!netPeerName && (!peerAddress.includes(':') || /^[0-9a-f:]+$/i.test(peerAddress))) netPeerName = peerAddress;
  let destPort = netPeerPort;
  let destAddr = netPeerName || netPeerIP;

  let full = httpURL ? parseUrl(httpURL) : null;
  if (!full && httpTarget) {
    const host = httpHost || (destAddr ? (destPort > 0 ? `${destAddr}:${destPort}` : destAddr) : '');
    full = parseUrl(httpTarget, host, httpScheme);
    if (full) httpURL = full.full;
  }
  if (full) {
    const port = full.port ? Number(full.port) : schemeDefaultPort(full.scheme);
    destAddr = truncate(full.hostname);
    if (port > 0) destPort = port;
  }

  const destService: Record<string, string> = {};
  if (peerService) destService.name = destService.resource = peerService;
  if (peerAddress) destService.resource = peerAddress;
  const target: { type: string; name?: string } = { type: '' };
  if (peerService) target.name = peerService;
  const out: Record<string, unknown> = {};
  let outcome = statusOutcome(span.status.code);

  if (isHTTP) {
    if (status > 0) {
      http.response = { status_code: status };
      if (outcome === 'unknown') outcome = status >= 400 ? 'failure' : 'success';
    }
    if (Object.keys(http).length) out.http = http;
    out.url = { original: httpURL };
  }

  const apmSpan: Record<string, unknown> = {};
  if (isDB) {
    apmSpan.type = 'db';
    apmSpan.subtype = db.type ?? '';
    apmSpan.db = db;
    const subtype = String(db.type ?? '');
    target.type = subtype || 'db';
    if (subtype && !destService.name) destService.name = destService.resource = subtype;
    if (db.instance) target.name = String(db.instance);
  } else if (isMessaging) {
    apmSpan.type = 'messaging';
    apmSpan.subtype = msgSystem;
    let action = msgOperationNew || msgOperation;
    if (!action && span.kind === 'PRODUCER') action = 'send';
    if (action) apmSpan.action = action;
    if (queue) apmSpan.message = { queue: { name: queue } };
    target.type = msgSystem || 'messaging';
    if (msgSystem && !destService.name) destService.name = destService.resource = msgSystem;
    if (destService.resource && queue) destService.resource += `/${queue}`;
    if (queue && !tempDestination) target.name = queue;
  } else if (isRPC) {
    apmSpan.type = 'external';
    apmSpan.subtype = rpcSystem;
    target.type = rpcSystem || 'external';
    if (!destService.name) destService.name = destService.resource = `${destAddr}:${destPort}`;
    if (rpcService) target.name = rpcService;
  } else if (isHTTP) {
    apmSpan.type = 'external';
    apmSpan.subtype = 'http';
    target.type = 'http';
    if (full) {
      let nameHost = full.host;
      let resource = full.host;
      if (destPort === schemeDefaultPort(full.scheme)) {
        if (full.port) nameHost = destAddr; // drop the default port from the name
        else resource = `${resource}:${destPort}`; // and always show it in the resource
      }
      target.name = resource;
      if (!destService.name) {
        destService.name = `${full.scheme}://${nameHost}`;
        destService.resource = resource;
      }
    }
  } else if (span.kind === 'INTERNAL') {
    apmSpan.type = 'app';
    apmSpan.subtype = 'internal';
  } else {
    apmSpan.type = 'unknown';
  }
  if (apmSpan.subtype === '') delete apmSpan.subtype;

  if (destAddr) out.destination = destPort > 0 ? { address: destAddr, port: destPort } : { address: destAddr };
  // An outcome still unknown (unset status, no HTTP status) is success (apm-data v1.19
  // input/otlp/traces.go TranslateSpan, commit 6fb3770, as in APM Server 8.19).
  if (outcome === 'unknown') outcome = 'success';
  if (Object.keys(destService).length) apmSpan.destination = { service: { ...destService, type: String(apmSpan.type) } };
  const hasTarget = target.type !== '' || target.name !== undefined;
  return { span: apmSpan, outcome, fields: out, ...(hasTarget ? { target } : {}) };
}
