import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * Which webhook destinations may be called (docs/webhooks.md "SSRF"). Every address a destination
 * resolves to must be public unicast: loopback, private (RFC 1918), link-local (incl. the cloud
 * metadata address 169.254.169.254), CGNAT (100.64/10), multicast, broadcast, unspecified, reserved,
 * IPv6 unique-local (fc00::/7) and the IPv4-mapped/translated forms of any of these are refused,
 * unless the operator allows private destinations (WEBHOOK_ALLOW_PRIVATE) or lists the host or
 * range (WEBHOOK_ALLOWED_HOSTS: host names, addresses or CIDRs).
 */
export interface DestinationPolicy {
  allowPrivate: boolean;
  allowedHosts: readonly string[];
}

export type Resolver = (host: string) => Promise<string[]>;

export const systemResolver: Resolver = (host) =>
  new Promise((resolve, reject) => dnsLookup(host, { all: true, verbatim: true }, (err, addrs: LookupAddress[]) => (err ? reject(err) : resolve(addrs.map((a) => a.address)))));

export class DestinationRefused extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

/** ipaddr.js's range name of an address, IPv4-mapped IPv6 (::ffff:a.b.c.d) classified as the IPv4 address it carries. */
export function addressRange(address: string): string {
  const parsed = ipaddr.process(address.replace(/^\[|\]$/g, '').replace(/%.*$/, ''));
  return parsed.range();
}

function allowListed(policy: DestinationPolicy, host: string, address?: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  for (const entry of policy.allowedHosts) {
    const e = entry.toLowerCase();
    if (e === h) return true;
    if (address && e.includes('/') && ipaddr.isValidCIDR(e)) {
      try {
        const [range, bits] = ipaddr.parseCIDR(e);
        const ip = ipaddr.process(address);
        if (ip.kind() === range.kind() && (ip as ipaddr.IPv4).match(range as ipaddr.IPv4, bits)) return true;
      } catch { /* an entry of the other family */ }
    } else if (address && ipaddr.isValid(e) && ipaddr.process(e).toString() === ipaddr.process(address).toString()) return true;
  }
  return false;
}

/** Null when `address` (reached through `host`) may be called, else why not. */
export function refusalFor(policy: DestinationPolicy, host: string, address: string): string | null {
  if (policy.allowPrivate || allowListed(policy, host, address)) return null;
  let range: string;
  try {
    range = addressRange(address);
  } catch {
    return `${address} is not an IP address`;
  }
  return range === 'unicast' ? null : `${host} resolves to ${address}, a ${range} address`;
}

/**
 * Checks a destination URL as given at creation: http(s) only, no credentials, and every address
 * its host resolves to must be allowed. Throws DestinationRefused naming the reason.
 */
export async function checkDestination(raw: string, policy: DestinationPolicy, resolve: Resolver = systemResolver): Promise<URL> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new DestinationRefused('not a URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new DestinationRefused(`scheme ${url.protocol} is not allowed (http or https only)`);
  if (url.username || url.password) throw new DestinationRefused('credentials in the URL are not allowed');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  let addresses: string[];
  if (isIP(host)) addresses = [host];
  else {
    try {
      addresses = await resolve(host);
    } catch (err) {
      throw new DestinationRefused(`${host} does not resolve (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  }
  if (addresses.length === 0) throw new DestinationRefused(`${host} does not resolve`);
  for (const a of addresses) {
    const refused = refusalFor(policy, host, a);
    if (refused) throw new DestinationRefused(refused);
  }
  return url;
}

/**
 * A `lookup` for http.request that resolves and checks at connect time, so the address connected
 * to is the address checked (a DNS answer that changes after the check — rebinding — is refused).
 */
export function guardedLookup(policy: DestinationPolicy): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addrs: LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      for (const a of addrs) {
        const refused = refusalFor(policy, hostname, a.address);
        if (refused) return callback(new DestinationRefused(refused), '', 0);
      }
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addrs);
      const first = addrs[0]!;
      callback(null, first.address, first.family);
    });
  };
}
