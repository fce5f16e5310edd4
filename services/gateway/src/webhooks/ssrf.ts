import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import type { AppMode } from '@dfd/config';

/** Where callbacks may go. Production: https only and public addresses only. */
export interface CallbackPolicy {
  requireHttps: boolean;
  allowPrivate: boolean;
}

export function callbackPolicy(mode: AppMode): CallbackPolicy {
  return mode === 'production' ? { requireHttps: true, allowPrivate: false } : { requireHttps: false, allowPrivate: true };
}

export class CallbackForbidden extends Error {
  readonly code = 'callback_url_forbidden';
  constructor(message: string) {
    super(message);
    this.name = 'CallbackForbidden';
  }
}

// Two lists: Node matches IPv4 addresses against IPv4-mapped IPv6 rules too.
const blocked4 = new BlockList();
const blocked6 = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8], // "this" network
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local (cloud metadata lives here)
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.88.99.0', 24], // 6to4 relay anycast
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) blocked4.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['::', 96], // IPv4-compatible (deprecated)
  ['::ffff:0:0', 96], // IPv4-mapped: could smuggle any IPv4 address
  ['64:ff9b::', 96], // NAT64
  ['64:ff9b:1::', 48], // local NAT64
  ['100::', 64], // discard
  ['2001::', 23], // IETF protocol assignments (Teredo, ORCHID, ...)
  ['2001:db8::', 32], // documentation
  ['2002::', 16], // 6to4: embeds an IPv4 address
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
] as const) blocked6.addSubnet(net, bits, 'ipv6');

/** True for loopback, private, link-local, unique-local and other non-public addresses. */
export function isForbiddenAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return blocked4.check(address, 'ipv4');
  if (family === 6) return blocked6.check(address, 'ipv6');
  return true;
}

export type Resolver = (host: string) => Promise<LookupAddress[]>;

export const systemResolver: Resolver = (host) =>
  new Promise((resolve, reject) => dnsLookup(host, { all: true, verbatim: true }, (err, addrs) => (err ? reject(err) : resolve(addrs))));

/** Parses the URL and checks the scheme and the literal host; does not resolve names. */
export function parseCallbackUrl(raw: string, policy: CallbackPolicy): URL {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new CallbackForbidden('callback_url is not a valid URL.');
  }
  if (raw.length > 2048) throw new CallbackForbidden('callback_url is longer than 2048 characters.');
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && !policy.requireHttps)) {
    throw new CallbackForbidden(policy.requireHttps ? 'callback_url must use https.' : 'callback_url must use http or https.');
  }
  if (u.username || u.password) throw new CallbackForbidden('callback_url must not carry credentials.');
  const host = hostOf(u);
  if (!policy.allowPrivate && isIP(host) && isForbiddenAddress(host)) {
    throw new CallbackForbidden(`callback_url points to a non-public address (${host}).`);
  }
  return u;
}

export function hostOf(u: URL): string {
  return u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
}

/** Checks every address a name resolves to; throws CallbackForbidden for a private one. */
export function checkAddresses(host: string, addrs: LookupAddress[]): void {
  if (addrs.length === 0) throw new CallbackForbidden(`callback_url host ${host} does not resolve.`);
  const bad = addrs.find((a) => isForbiddenAddress(a.address));
  if (bad) throw new CallbackForbidden(`callback_url host ${host} resolves to a non-public address (${bad.address}).`);
}

/** Full check: scheme, literal address, and (in production) every DNS answer. */
export async function checkCallbackUrl(raw: string, policy: CallbackPolicy, resolve: Resolver = systemResolver): Promise<URL> {
  const u = parseCallbackUrl(raw, policy);
  if (policy.allowPrivate) return u;
  const host = hostOf(u);
  if (isIP(host)) return u;
  let addrs: LookupAddress[];
  try {
    addrs = await resolve(host);
  } catch {
    throw new CallbackForbidden(`callback_url host ${host} does not resolve.`);
  }
  checkAddresses(host, addrs);
  return u;
}

/**
 * A `lookup` for http.request that resolves, checks every address and hands the checked ones to
 * the socket, so a DNS answer that changes between check and connect (rebinding) cannot slip by.
 */
export function guardedLookup(policy: CallbackPolicy, resolve: Resolver = systemResolver) {
  return (hostname: string, options: { all?: boolean } | number, callback: (...args: any[]) => void): void => {
    const all = typeof options === 'object' && options !== null && options.all === true;
    resolve(hostname).then(
      (addrs) => {
        try {
          if (!policy.allowPrivate) checkAddresses(hostname, addrs);
        } catch (err) {
          callback(err);
          return;
        }
        if (addrs.length === 0) return callback(new CallbackForbidden(`callback_url host ${hostname} does not resolve.`));
        if (all) callback(null, addrs);
        else callback(null, addrs[0]!.address, addrs[0]!.family);
      },
      (err) => callback(err),
    );
  };
}
