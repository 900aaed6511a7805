import { BlockList, isIP } from 'node:net';

/**
 * Which kind of network an address is on. A redirect must not turn a check of a public URL into a request
 * to the runner's own host, the cloud's metadata service (169.254.169.254) or the private network, whose
 * answer the step would then quote in its log and summary.
 */
export type AddressClass = 'loopback' | 'link-local' | 'private' | 'public';

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

// node:net's BlockList does the prefix matching, and matches IPv4-mapped IPv6 (::ffff:a.b.c.d) against the
// IPv4 subnets, so `http://[::ffff:169.254.169.254]/` is link-local like the IPv4 form. Built at the first
// classification (a redirect), not at start-up: BlockList loads its own modules, a cold-start cost.
let classes: Array<[Exclude<AddressClass, 'public'>, BlockList]> | undefined;
const buildClasses = (): Array<[Exclude<AddressClass, 'public'>, BlockList]> => [
  [
    'loopback',
    subnets([
      ['127.0.0.0', 8, 'ipv4'],
      // 0.0.0.0 ("this host") and :: connect to the local machine on Linux.
      ['0.0.0.0', 8, 'ipv4'],
      ['::1', 128, 'ipv6'],
      ['::', 128, 'ipv6'],
    ]),
  ],
  [
    'link-local',
    subnets([
      ['169.254.0.0', 16, 'ipv4'],
      ['fe80::', 10, 'ipv6'],
    ]),
  ],
  [
    'private',
    subnets([
      ['10.0.0.0', 8, 'ipv4'],
      ['172.16.0.0', 12, 'ipv4'],
      ['192.168.0.0', 16, 'ipv4'],
      ['fc00::', 7, 'ipv6'],
    ]),
  ],
];

function subnets(list: Array<[string, number, 'ipv4' | 'ipv6']>): BlockList {
  const block = new BlockList();
  for (const [network, prefix, family] of list) block.addSubnet(network, prefix, family);
  return block;
}

/** The class of one IP address (an IPv6 zone such as `%eth0` is ignored). */
export function addressClass(address: string): AddressClass {
  const bare = address.replace(/%.*$/, '');
  const family = isIP(bare);
  if (family === 0) return 'public';
  classes ??= buildClasses();
  for (const [name, block] of classes) {
    if (block.check(bare, family === 4 ? 'ipv4' : 'ipv6')) return name;
  }
  return 'public';
}

/** The addresses a URL's host stands for: an IP literal as is, a name through the system resolver. */
export async function resolveHost(url: URL): Promise<ResolvedAddress[]> {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const literal = isIP(host);
  if (literal !== 0) return [{ address: host, family: literal as 4 | 6 }];
  // node:dns/promises is loaded when a name must be resolved, not at start-up (cold start before the first
  // request of a check of an IP address).
  const { lookup } = process.getBuiltinModule('node:dns/promises');
  const found = await lookup(host, { all: true, order: 'verbatim' });
  return found.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));
}

/**
 * Why a redirect to `addresses` is refused, or undefined when it may be followed. A redirect may go to a
 * public address, or to an internal one of a class the starting URL was itself on (a check of
 * http://localhost may be sent to another local port, a check of a public URL may not be sent to the
 * runner's host, the metadata service or the private network, and a check of a private service may not be
 * sent to the metadata service).
 */
export function redirectRefusal(
  startClasses: ReadonlySet<AddressClass>,
  addresses: readonly ResolvedAddress[],
): { address: string; class: AddressClass } | undefined {
  for (const { address } of addresses) {
    const kind = addressClass(address);
    if (kind !== 'public' && !startClasses.has(kind)) return { address, class: kind };
  }
  return undefined;
}
