import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isPrivateAddress } from "../../../../src/subscriptions/targets/private-address.js";

/** The denied blocks, written independently of private-address.ts's CIDR text: [first address as a number, prefix length]. */
const V4: [string, number][] = [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.0.2.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
];

const V6: [bigint, number][] = [
  [0n, 96], // :: , ::1 and the IPv4-compatible addresses
  [0x0100n << 112n, 64],
  [(0x2001n << 112n) | (0x2n << 96n), 48],
  [(0x2001n << 112n) | (0xdb8n << 96n), 32],
  [(0x64n << 112n) | (0xff9bn << 96n) | (0x1n << 80n), 48],
  [0xfc00n << 112n, 7],
  [0xfe80n << 112n, 10],
  [0xfec0n << 112n, 10],
  [0xff00n << 112n, 8],
];
const MAPPED = 0xffffn << 32n;
const NAT64 = (0x64n << 112n) | (0xff9bn << 96n);
const SIX_TO_FOUR = 0x2002n << 112n;

const v4Number = (text: string) => text.split(".").reduce((n, o) => n * 256 + Number(o), 0);
const v4Text = (n: number) => [24, 16, 8, 0].map((s) => (n >>> s) & 0xff).join(".");

function v4Denied(n: number): boolean {
  return V4.some(
    ([base, bits]) => Math.floor(n / 2 ** (32 - bits)) === Math.floor(v4Number(base) / 2 ** (32 - bits)),
  );
}

function v6Denied(a: bigint): boolean {
  const within = (base: bigint, bits: number) => a >> BigInt(128 - bits) === base >> BigInt(128 - bits);
  if (V6.some(([base, bits]) => within(base, bits))) return true;
  const low32 = Number(a & 0xffffffffn);
  if (within(MAPPED, 96) || within(NAT64, 96)) return v4Denied(low32);
  if (within(SIX_TO_FOUR, 16)) return v4Denied(Number((a >> 80n) & 0xffffffffn));
  return false;
}

/** Eight groups, uncompressed, or with the longest run of zero groups as `::`. */
function v6Text(a: bigint, compress: boolean): string {
  const groups = Array.from({ length: 8 }, (_, i) =>
    Number((a >> BigInt(112 - 16 * i)) & 0xffffn).toString(16),
  );
  if (!compress) return groups.join(":");
  let best = -1;
  let bestLength = 0;
  for (let i = 0; i < 8; i++) {
    let j = i;
    while (j < 8 && groups[j] === "0") j++;
    if (j - i > bestLength) {
      best = i;
      bestLength = j - i;
    }
  }
  if (bestLength < 2) return groups.join(":");
  return `${groups.slice(0, best).join(":")}::${groups.slice(best + bestLength).join(":")}`;
}

describe("isPrivateAddress", () => {
  it("is true at both ends of every IPv4 block and false just outside them", () => {
    for (const [base, bits] of V4) {
      const first = v4Number(base);
      const last = first + 2 ** (32 - bits) - 1;
      expect(isPrivateAddress(v4Text(first)), v4Text(first)).toBe(true);
      expect(isPrivateAddress(v4Text(last)), v4Text(last)).toBe(true);
      // Its mapped form (dotted and hex) is the same address.
      expect(isPrivateAddress(`::ffff:${v4Text(last)}`), `::ffff:${v4Text(last)}`).toBe(true);
      expect(
        isPrivateAddress(v6Text(MAPPED | BigInt(first), true)),
        v6Text(MAPPED | BigInt(first), true),
      ).toBe(true);
      for (const outside of [first - 1, last + 1]) {
        if (outside < 0 || outside > 0xffffffff || v4Denied(outside)) continue; // another block's
        expect(isPrivateAddress(v4Text(outside)), v4Text(outside)).toBe(false);
        expect(isPrivateAddress(`::ffff:${v4Text(outside)}`), `::ffff:${v4Text(outside)}`).toBe(false);
      }
    }
  });

  it("is true at both ends of every IPv6 block and false just outside them", () => {
    for (const [base, bits] of V6) {
      const first = base;
      const last = base + (1n << BigInt(128 - bits)) - 1n;
      for (const a of [first, last]) {
        expect(isPrivateAddress(v6Text(a, true)), v6Text(a, true)).toBe(true);
        expect(isPrivateAddress(v6Text(a, false)), v6Text(a, false)).toBe(true);
      }
      for (const outside of [first - 1n, last + 1n]) {
        if (outside < 0n || outside >= 1n << 128n || v6Denied(outside)) continue;
        expect(isPrivateAddress(v6Text(outside, true)), v6Text(outside, true)).toBe(false);
      }
    }
  });

  it("names the addresses an SSRF goes for", () => {
    for (const ip of [
      "127.0.0.1", // the Lambda runtime API's host (AWS_LAMBDA_RUNTIME_API)
      "169.254.169.254", // EC2 instance metadata
      "169.254.170.2", // ECS task metadata and credentials
      "fd00:ec2::254", // EC2 instance metadata over IPv6
      "::1",
      "::",
      "0.0.0.0",
      "10.0.0.5",
      "172.31.255.255",
      "192.168.1.1",
      "100.64.0.1",
      "198.19.255.255",
      "224.0.0.1",
      "255.255.255.255",
      "fe80::1",
      "fe80::1%eth0",
      "fc00::1",
      "ff02::1",
      "::ffff:127.0.0.1",
      "::ffff:7f00:1",
      "::FFFF:A9FE:A9FE",
      "::127.0.0.1", // IPv4-compatible
      "64:ff9b::169.254.169.254", // NAT64
      "64:ff9b::a9fe:a9fe",
      "2002:a00:1::", // 6to4 of 10.0.0.1
      "0:0:0:0:0:ffff:10.1.2.3",
    ]) {
      expect(isPrivateAddress(ip), ip).toBe(true);
    }
  });

  it("is false for public addresses and for text that is not an address", () => {
    for (const ip of [
      "8.8.8.8",
      "1.1.1.1",
      "172.32.0.0",
      "172.15.255.255",
      "100.63.255.255",
      "100.128.0.0",
      "198.17.255.255",
      "198.20.0.0",
      "223.255.255.255",
      "2001:4860:4860::8888",
      "2606:4700:4700::1111",
      "::ffff:8.8.8.8",
      "64:ff9b::8.8.8.8",
      "2002:808:808::",
      "localhost",
      "",
      "not an address",
    ]) {
      expect(isPrivateAddress(ip), ip).toBe(false);
    }
  });

  it("agrees with a brute-force check of the blocks over random IPv4 addresses", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (n) => {
        expect(isPrivateAddress(v4Text(n))).toBe(v4Denied(n));
      }),
      { numRuns: 5_000 },
    );
  });

  it("agrees with a brute-force check of the blocks over random IPv6 addresses near them", () => {
    // Random bits under a prefix that matters (a denied block, an embedding, or none).
    const prefixes: [bigint, number][] = [...V6, [MAPPED, 96], [NAT64, 96], [SIX_TO_FOUR, 16], [0n, 0]];
    const address = fc
      .tuple(fc.constantFrom(...prefixes), fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), fc.nat({ max: 4 }))
      .map(([[base, bits], random, shorten]) => {
        // Keep the prefix, sometimes less of it (so neighbours outside the block come up too).
        const keep = Math.max(0, bits - shorten);
        const mask = keep === 0 ? 0n : ((1n << BigInt(keep)) - 1n) << BigInt(128 - keep);
        return (base & mask) | (random & ~mask & ((1n << 128n) - 1n));
      });
    fc.assert(
      fc.property(address, fc.boolean(), (a, compress) => {
        expect(isPrivateAddress(v6Text(a, compress))).toBe(v6Denied(a));
      }),
      { numRuns: 5_000 },
    );
  });
});
