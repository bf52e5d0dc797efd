import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/**
 * Where a seller's webhook may point. Checked at registration and again at every delivery (a
 * name may resolve elsewhere later): http(s) only, no credentials in the URL, and every address
 * the host resolves to must be public: not loopback, private, link-local (169.254.169.254, the
 * clouds' metadata service, is one), CGNAT, multicast or unspecified, in IPv4 or IPv6, unless an
 * operator lists the host in WEBHOOK_ALLOWED_HOSTS. The delivery connects to the address checked
 * here, so a name cannot be re-resolved to an inner address between check and connection.
 */
const blocked = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) blocked.addSubnet(network, prefix, 'ipv4');
// IPv6 unique-local, link-local, site-local and multicast, and the forms that carry an IPv4
// address inside (NAT64 and 6to4 reach 10.0.0.1 as 64:ff9b::a00:1 on a NAT64 network).
for (const [network, prefix] of [
  ['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['fec0::', 10], ['ff00::', 8], ['64:ff9b::', 96], ['64:ff9b:1::', 48], ['2002::', 16],
] as const) blocked.addSubnet(network, prefix, 'ipv6');

export class WebhookTargetError extends Error {
  /** True when trying later may succeed (the name did not resolve now): a delivery retries. */
  constructor(message: string, readonly temporary = false) {
    super(message);
    this.name = 'WebhookTargetError';
  }
}

export interface WebhookTarget {
  url: URL;
  /** The address to connect to, checked. */
  address: string;
  family: 4 | 6;
}

function isBlockedAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 6 && address.toLowerCase().startsWith('::ffff:')) return isBlockedAddress(address.slice(7));
  return family === 4 ? blocked.check(address, 'ipv4') : family === 6 ? blocked.check(address, 'ipv6') : true;
}

/** Throws WebhookTargetError naming what is wrong; answers the address to connect to. */
export async function checkWebhookTarget(raw: string, allowedHosts: string[]): Promise<WebhookTarget> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new WebhookTargetError('url: not a URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new WebhookTargetError('url: only http and https are delivered to');
  if (url.username || url.password) throw new WebhookTargetError('url: credentials in the URL are refused; use the signature to trust deliveries');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  let resolved: Array<{ address: string; family: number }>;
  try {
    resolved = isIP(host) ? [{ address: host, family: isIP(host) }] : await lookup(host, { all: true });
  } catch {
    throw new WebhookTargetError(`url: ${host} does not resolve`, true);
  }
  if (resolved.length === 0) throw new WebhookTargetError(`url: ${host} does not resolve`, true);
  const allowed = allowedHosts.includes(host.toLowerCase());
  const inner = resolved.find((entry) => isBlockedAddress(entry.address));
  if (inner && !allowed) throw new WebhookTargetError(`url: ${host} resolves to ${inner.address}, an address inside a network; only public addresses are delivered to`);
  const first = resolved[0]!;
  return { url, address: first.address, family: first.family === 6 ? 6 : 4 };
}
