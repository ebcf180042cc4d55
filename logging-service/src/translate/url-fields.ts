import { truncate } from './labels';

export const schemeDefaultPort = (scheme: string): number => (scheme === 'http' ? 80 : scheme === 'https' ? 443 : 0);

export interface ParsedUrl {
  scheme: string;
  /** host[:port] exactly as written in the URL (Go url.URL.Host). */
  host: string;
  hostname: string;
  port: string;
  path: string;
  query: string;
  full: string;
}

/** Parses an absolute URL, or a path resolved against scheme://host; null when that is impossible. */
export function parseUrl(original: string, defaultHost = '', defaultScheme = 'http'): ParsedUrl | null {
  const absolute = /^[a-z][a-z0-9+.-]*:\/\//i.test(original);
  if (!absolute && !defaultHost) return null;
  try {
    const u = absolute ? new URL(original) : new URL(original, `${defaultScheme || 'http'}://${defaultHost}`);
    const scheme = u.protocol.replace(/:$/, '');
    // WHATWG URL drops a port equal to the scheme default; Go keeps what was written.
    const written = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/?#]*@)?(\[[^\]]+\]|[^:/?#]+)(?::(\d+))?/i.exec(absolute ? original : `${defaultScheme}://${defaultHost}`);
    const port = written?.[2] ?? u.port;
    const hostname = u.hostname.replace(/^\[|\]$/g, '');
    return {
      scheme, hostname, port,
      host: port ? `${u.hostname}:${port}` : u.hostname,
      path: u.pathname, query: u.search.replace(/^\?/, ''),
      full: truncate(u.toString()),
    };
  } catch {
    return null;
  }
}

/** apm-data modelpb.ParseURL → the ECS url.* object of a transaction. */
export function urlFields(original: string, defaultHost: string, defaultScheme: string): Record<string, unknown> {
  const u = parseUrl(original, defaultHost, defaultScheme || 'http');
  if (!u) return { original: truncate(original) };
  const out: Record<string, unknown> = { original: truncate(original), scheme: u.scheme, full: u.full, domain: truncate(u.hostname), path: truncate(u.path) };
  if (u.query) out.query = truncate(u.query);
  if (u.port) out.port = Number(u.port);
  return out;
}
