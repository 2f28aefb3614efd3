import { type IpNetwork, networkTest, parseNetwork } from "../ip-network.js";

/**
 * Whether an address is one an HTTP target must not reach when private targets are denied
 * (guarded-fetch.ts): anything that is not a public unicast host on the internet. A dispatcher in
 * AWS can otherwise be pointed by whoever creates a subscription at the Lambda runtime API on
 * loopback, the instance metadata endpoints on link-local, or services inside its VPC (SSRF).
 *
 * The list follows IANA's IPv4 and IPv6 Special-Purpose Address Registries, taking every block
 * whose destination is not globally reachable, plus multicast (a POST cannot go there):
 *
 * - IPv4: 0.0.0.0/8 (this network; 0.0.0.0 reaches the local host), 10/8, 172.16/12, 192.168/16
 *   (private use), 100.64/10 (carrier-grade NAT, also used inside clouds), 127/8 (loopback),
 *   169.254/16 (link-local: EC2 and ECS metadata, 169.254.169.254 and 169.254.170.2), 192.0.0/24
 *   (IETF protocol assignments), 192.0.2/24, 198.51.100/24, 203.0.113/24 (documentation: never
 *   assigned, but networks misuse them internally), 198.18/15 (benchmarking), 224/4 (multicast)
 *   and 240/4 (reserved, with the 255.255.255.255 broadcast).
 * - IPv6: ::/128 and ::1/128 (unspecified, loopback), the whole of ::/96 (the deprecated
 *   IPv4-compatible addresses: nothing public lives there), fc00::/7 (unique local), fe80::/10
 *   (link-local), fec0::/10 (the deprecated site-local, still local where used), ff00::/8
 *   (multicast), 100::/64 (discard), 2001:db8::/32 (documentation), 2001:2::/48 (benchmarking),
 *   64:ff9b:1::/48 (local-use IPv4/IPv6 translation).
 * - IPv4 embedded in IPv6, each denied when its IPv4 address is: IPv4-mapped ::ffff:0:0/96 (how
 *   ip-network.ts compares every IPv4 address, so it comes with the IPv4 blocks), NAT64's
 *   64:ff9b::/96 (a VPC's NAT64 gateway would carry 64:ff9b::a9fe:a9fe to 169.254.169.254) and
 *   6to4's 2002::/16.
 *
 * Left out, being globally reachable in the registries: 192.88.99.0/24 (6to4 relay anycast),
 * Teredo 2001::/32 (its embedded address is obfuscated and a public relay's), AMT, AS112, ORCHIDv2
 * and the PCP/TURN anycast addresses.
 */

const IPV4_DENIED = [
  "0.0.0.0/8",
  "10.0.0.0/8",
  "100.64.0.0/10",
  "127.0.0.0/8",
  "169.254.0.0/16",
  "172.16.0.0/12",
  "192.0.0.0/24",
  "192.0.2.0/24",
  "192.168.0.0/16",
  "198.18.0.0/15",
  "198.51.100.0/24",
  "203.0.113.0/24",
  "224.0.0.0/4",
  "240.0.0.0/4",
];

const IPV6_DENIED = [
  "::/96",
  "100::/64",
  "2001:2::/48",
  "2001:db8::/32",
  "64:ff9b:1::/48",
  "fc00::/7",
  "fe80::/10",
  "fec0::/10",
  "ff00::/8",
];

/** The IPv4 network `a.b.c.d/n` embedded at bit `offset` of an IPv6 prefix written as its first groups. */
function embedded(prefixGroups: string, offset: number, v4: string): string {
  const [address, length] = v4.split("/");
  const octets = address.split(".").map(Number);
  const hex = (hi: number, lo: number) => ((hi << 8) | lo).toString(16);
  if (offset === 96) return `${prefixGroups}::${address}/${96 + Number(length)}`;
  // 6to4: the IPv4 address is groups 2 and 3 (bits 16-47).
  return `${prefixGroups}:${hex(octets[0], octets[1])}:${hex(octets[2], octets[3])}::/${16 + Number(length)}`;
}

function network(text: string): IpNetwork {
  const parsed = parseNetwork(text);
  if (typeof parsed === "string") throw new Error(`private-address.ts: ${parsed}`);
  return parsed;
}

const DENIED: ((ip: string) => boolean)[] = [
  ...IPV4_DENIED,
  ...IPV6_DENIED,
  ...IPV4_DENIED.map((v4) => embedded("64:ff9b", 96, v4)),
  ...IPV4_DENIED.map((v4) => embedded("2002", 16, v4)),
].map((text) => networkTest(network(text)));

/**
 * Whether `ip` (IPv4 or IPv6 text, as dns.lookup returns or a URL holds) is loopback, private,
 * link-local, multicast or otherwise not a public host (the list above). An IPv6 zone (`%eth0`)
 * is ignored: `fe80::1%eth0` is link-local. Text that is not an address is not private (the caller
 * decides what to do with it; guarded-fetch.ts only ever passes addresses).
 */
export function isPrivateAddress(ip: string): boolean {
  const zone = ip.indexOf("%");
  const address = zone < 0 ? ip : ip.slice(0, zone);
  for (const test of DENIED) if (test(address)) return true;
  return false;
}
