import { isIP } from "node:net";

/**
 * IP networks for the `cidr` filter matcher (record-filter.ts): a network written as CIDR, and
 * whether an address string lies within it. Every address is compared as 128 bits, IPv4 as its
 * IPv4-mapped IPv6 form (`::ffff:a.b.c.d`), so `10.0.0.0/8` also matches `::ffff:10.1.2.3`.
 * node:net's isIP decides what is an address; the parsing here only places its groups.
 */

/** A network: its address (16 bytes, bits past the prefix clear) and how many leading bits count. */
export interface IpNetwork {
  address: Uint8Array;
  bits: number;
}

/**
 * A network written as `address/length`, or why it is not one (a message naming the fix). A
 * network with bits set past its prefix (`10.0.0.1/8`) is refused.
 */
export function parseNetwork(text: string): IpNetwork | string {
  const slash = text.indexOf("/");
  if (slash < 0 || slash !== text.lastIndexOf("/")) {
    return `${JSON.stringify(text)} is not an address, a slash and a prefix length`;
  }
  const address = text.slice(0, slash);
  const family = isIP(address);
  if (family === 0 || address.includes("%")) {
    return `${JSON.stringify(address)} is not an IPv4 or IPv6 address (without a zone)`;
  }
  const lengthText = text.slice(slash + 1);
  const maxLength = family === 4 ? 32 : 128;
  const length = Number(lengthText);
  if (!/^[0-9]{1,3}$/.test(lengthText) || length > maxLength) {
    return `an IPv${family} prefix length is a whole number from 0 to ${maxLength}, got ${JSON.stringify(lengthText)}`;
  }
  const network = new Uint8Array(16);
  parseAddress(address, family, network);
  const bits = family === 4 ? 96 + length : length;
  const masked = maskTo(network, bits);
  if (!masked.every((b, i) => b === network[i])) {
    return `${text} has bits set past its /${length} prefix: the network is ${formatAddress(masked, family)}/${length}`;
  }
  return { address: network, bits };
}

/**
 * Whether a string is an address within the network. The last string tested is remembered:
 * several networks tested on one field see the same string in turn, and isIP is most of the cost.
 */
export function networkTest(network: IpNetwork): (text: string) => boolean {
  return (v) => {
    if (v.length > MAX_ADDRESS_TEXT) return false;
    if (v !== testedText) {
      testedText = v;
      const family = isIP(v);
      testedIsAddress = family !== 0 && parseAddress(v, family, tested);
    }
    return testedIsAddress && samePrefix(tested, network.address, network.bits);
  };
}

/** Longest text an IP address can have: eight groups of four hex digits with a dotted IPv4 tail. */
const MAX_ADDRESS_TEXT = 45;
/** The address under test, parsed in place so a match allocates nothing. */
const tested = new Uint8Array(16);
/** The text `tested` holds, and whether it was an address. */
let testedText: string | undefined;
let testedIsAddress = false;
/** IPv6 groups while parsing, before they are placed around a `::`. */
const groups = new Uint16Array(8);

function hexDigit(c: number): number {
  return c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x57; // 0-9, then a-f and A-F alike
}

/** Writes the dotted IPv4 address starting at `from` (isIP-checked) into `out` from byte `at`. */
function writeIPv4(text: string, from: number, out: Uint8Array, at: number): void {
  let octet = 0;
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2e) {
      out[at++] = octet;
      octet = 0;
    } else {
      octet = octet * 10 + c - 0x30;
    }
  }
  out[at] = octet;
}

/**
 * An address isIP accepted (family 4 or 6) as 16 bytes in `out`, IPv4 mapped into IPv6. False for
 * an address with a zone (`fe80::1%eth0`), which names an interface rather than a network's host.
 */
function parseAddress(text: string, family: number, out: Uint8Array): boolean {
  if (family === 4) {
    out.fill(0, 0, 10);
    out[10] = 0xff;
    out[11] = 0xff;
    writeIPv4(text, 0, out, 12);
    return true;
  }
  if (text.includes("%")) return false;
  // Groups before a `::` go at the front, groups after it at the back, zeros between.
  let count = 0;
  let gap = -1;
  let i = 0;
  if (text.charCodeAt(0) === 0x3a && text.charCodeAt(1) === 0x3a) {
    gap = 0;
    i = 2;
  }
  while (i < text.length) {
    let j = i;
    let group = 0;
    let c = text.charCodeAt(j);
    while (j < text.length && c !== 0x3a && c !== 0x2e) {
      group = group * 16 + hexDigit(c);
      c = text.charCodeAt(++j);
    }
    if (c === 0x2e) {
      // A dotted IPv4 tail: the last two groups.
      writeIPv4(text, i, out, 0);
      groups[count++] = (out[0] << 8) | out[1];
      groups[count++] = (out[2] << 8) | out[3];
      break;
    }
    groups[count++] = group;
    if (j >= text.length) break;
    if (text.charCodeAt(j + 1) === 0x3a) {
      gap = count;
      i = j + 2;
    } else {
      i = j + 1;
    }
  }
  out.fill(0);
  const head = gap < 0 ? count : gap;
  for (let k = 0; k < head; k++) {
    out[2 * k] = groups[k] >> 8;
    out[2 * k + 1] = groups[k] & 0xff;
  }
  const tail = count - head;
  for (let k = 0; k < tail; k++) {
    const at = 8 - tail + k;
    out[2 * at] = groups[head + k] >> 8;
    out[2 * at + 1] = groups[head + k] & 0xff;
  }
  return true;
}

/** Whether the first `bits` bits of two 16-byte addresses agree. */
function samePrefix(a: Uint8Array, b: Uint8Array, bits: number): boolean {
  const whole = bits >> 3;
  for (let i = 0; i < whole; i++) if (a[i] !== b[i]) return false;
  const rest = bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (a[whole] & mask) === (b[whole] & mask);
}

/** The address with every bit past the first `bits` cleared. */
function maskTo(address: Uint8Array, bits: number): Uint8Array {
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) {
    const keep = Math.max(0, Math.min(8, bits - 8 * i));
    out[i] = address[i] & ((0xff << (8 - keep)) & 0xff);
  }
  return out;
}

/** For messages: dotted IPv4, or the eight IPv6 groups in hex (uncompressed). */
function formatAddress(address: Uint8Array, family: number): string {
  if (family === 4) return Array.from(address.subarray(12)).join(".");
  const parts: string[] = [];
  for (let i = 0; i < 16; i += 2) parts.push(((address[i] << 8) | address[i + 1]).toString(16));
  return parts.join(":");
}
