/**
 * A linear, iterative JSON scanner over UTF-8 bytes (architecture §8, decision 0003). It validates
 * a JSON text without building it, so a value can be stored and returned as the exact bytes its
 * producer sent: numbers such as `1e400` or `123456789012345678901234567890` are never rounded by a
 * parse and re-stringify, and nothing recurses, so no nesting depth can overflow the stack.
 *
 * Beyond RFC 8259 it refuses what Floe will not store as text (issue 11): bytes that are not UTF-8,
 * strings holding a lone surrogate (escaped `\ud800` included, as no UTF-8 can carry one), and
 * nesting deeper than MAX_JSON_DEPTH. Each step looks at each byte a bounded number of times.
 */

/**
 * The deepest nesting accepted, as Jackson's StreamReadConstraints default (1000, what Kafka's own
 * JSON tooling parses): deeper values are refused on produce, and stored ones fetch in their
 * readable fallback form, so no client is handed JSON its parser may not be able to read.
 */
export const MAX_JSON_DEPTH = 1000;

/**
 * Headers one produced record may carry. Kafka has no count limit of its own (only
 * max.message.bytes); Floe bounds it so a request's cost is bounded by its count, checked while
 * scanning, before anything is parsed.
 */
export const MAX_HEADERS_PER_RECORD = 1000;

export type JsonPath = (string | number)[];

export type JsonProblemKind = "syntax" | "utf8" | "surrogate" | "depth" | "headers";

/** Why a text is refused, where (byte offset) and at which path (keys and indexes down to PATH_DEPTH). */
export class JsonTextError extends Error {
  constructor(
    readonly kind: JsonProblemKind,
    readonly offset: number,
    readonly path: JsonPath,
    message: string,
  ) {
    super(message);
  }
}

/** Path elements are tracked down to this depth: enough to name records[i].value and its code. */
const PATH_DEPTH = 3;

/** Where a value sits in `bytes`: [start, end). */
export interface Span {
  start: number;
  end: number;
}

/** What a scan of a produce body found: the source span of each records[i].value, by index. */
export interface ScannedBody {
  /** For each element of the top-level `records` array that is an object with a `value`: its span. */
  recordValues: (Span | undefined)[];
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

function isWhitespace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

/** 1 for a byte that stands for itself inside a string: printable ASCII but '"' and '\\'. */
const PLAIN = new Uint8Array(256);
for (let b = 0x20; b < 0x80; b++) PLAIN[b] = b === QUOTE || b === BACKSLASH ? 0 : 1;

function isDigitAt(bytes: Uint8Array, pos: number, end: number): boolean {
  return pos < end && bytes[pos] >= 0x30 && bytes[pos] <= 0x39;
}

function hexValue(b: number): number {
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  const lower = b | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

const openKinds = new Uint8Array(MAX_JSON_DEPTH + 1);

const keyDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * One pass over `bytes[start, end)`. With `recordsProfile`, it also tracks the produce body's
 * shape: spans of records[i].value and the header count of records[i].headers.
 */
class Scanner {
  pos: number;
  /** 1 per open object, 0 per open array, for the open containers (shared: a scan never yields). */
  private readonly kinds = openKinds;
  private depth = 0;
  /** Path elements of the open containers, down to PATH_DEPTH. */
  private readonly path: JsonPath = [];
  /** Members (objects) or elements (arrays) seen so far per open container, down to PATH_DEPTH + 1. */
  private readonly counts: number[] = [];
  readonly recordValues: (Span | undefined)[] = [];
  private valueStart = -1;

  constructor(
    private bytes: Uint8Array,
    start: number,
    private end: number,
    private readonly recordsProfile: boolean,
  ) {
    this.pos = start;
  }

  /** Ready to scan other bytes (one scanner serves every check: a scan runs to its end synchronously). */
  reset(bytes: Uint8Array, start: number, end: number): this {
    this.bytes = bytes;
    this.pos = start;
    this.end = end;
    this.depth = 0;
    this.valueStart = -1;
    return this;
  }

  private fail(kind: JsonProblemKind, message: string, at = this.pos): never {
    throw new JsonTextError(kind, at, this.path.slice(0, Math.min(this.depth, PATH_DEPTH)), message);
  }

  private skipWhitespace(): void {
    const { bytes, end } = this;
    let pos = this.pos;
    if (pos < end && bytes[pos] > 0x20) return;
    while (pos < end && isWhitespace(bytes[pos])) pos++;
    this.pos = pos;
  }

  private unexpected(what: string): never {
    if (this.pos >= this.end) this.fail("syntax", `unexpected end of JSON, expected ${what}`);
    const b = this.bytes[this.pos];
    const shown = b >= 0x20 && b < 0x7f ? `'${String.fromCharCode(b)}'` : `byte 0x${b.toString(16)}`;
    this.fail("syntax", `unexpected ${shown} at byte ${this.pos}, expected ${what}`);
  }

  /** Scans a string from its opening quote to after its closing one. */
  private scanString(): void {
    const { bytes, end } = this;
    let pos = this.pos + 1;
    for (;;) {
      // Most bytes of most strings: printable ASCII, one table load each.
      while (pos < end && PLAIN[bytes[pos]] === 1) pos++;
      if (pos >= end) {
        this.pos = pos;
        this.fail("syntax", "unterminated string");
      }
      const b = bytes[pos];
      if (b === QUOTE) {
        this.pos = pos + 1;
        return;
      }
      if (b === BACKSLASH) {
        pos = this.scanEscape(pos);
      } else if (b < 0x20) {
        this.pos = pos;
        this.fail("syntax", `control character 0x${b.toString(16)} in a string at byte ${pos}`);
      } else if (b < 0x80) {
        pos++;
      } else {
        pos = this.scanUtf8(pos);
      }
    }
  }

  /** One escape from its backslash; returns the position after it. */
  private scanEscape(at: number): number {
    const { bytes, end } = this;
    const e = at + 1 < end ? bytes[at + 1] : -1;
    if (e === 0x75 /* u */) {
      const unit = this.hex4(at + 2);
      if (unit < 0xd800 || unit > 0xdfff) return at + 6;
      if (unit >= 0xdc00) {
        this.pos = at;
        this.fail("surrogate", `lone surrogate \\u${unit.toString(16)} in a string at byte ${at}`);
      }
      // A high surrogate must be followed by an escaped low one: together they are one character.
      const low =
        at + 7 < end && bytes[at + 6] === BACKSLASH && bytes[at + 7] === 0x75 ? this.hex4(at + 8) : -1;
      if (low < 0xdc00 || low > 0xdfff) {
        this.pos = at;
        this.fail("surrogate", `lone surrogate \\u${unit.toString(16)} in a string at byte ${at}`);
      }
      return at + 12;
    }
    // " \ / b f n r t
    if (
      e === QUOTE ||
      e === BACKSLASH ||
      e === 0x2f ||
      e === 0x62 ||
      e === 0x66 ||
      e === 0x6e ||
      e === 0x72 ||
      e === 0x74
    )
      return at + 2;
    this.pos = at;
    this.fail("syntax", `invalid escape in a string at byte ${at}`);
  }

  private hex4(at: number): number {
    const { bytes, end } = this;
    if (at + 4 > end) {
      this.pos = at;
      this.fail("syntax", `invalid \\u escape at byte ${at - 2}`);
    }
    let n = 0;
    for (let i = at; i < at + 4; i++) {
      const h = hexValue(bytes[i]);
      if (h < 0) {
        this.pos = at;
        this.fail("syntax", `invalid \\u escape at byte ${at - 2}`);
      }
      n = (n << 4) | h;
    }
    return n;
  }

  /** One multi-byte UTF-8 sequence (RFC 3629: no overlongs, no surrogates, at most U+10FFFF). */
  private scanUtf8(at: number): number {
    const { bytes, end } = this;
    const b0 = bytes[at];
    let need: number;
    let min = 0x80;
    let max = 0xbf;
    if (b0 >= 0xc2 && b0 <= 0xdf) need = 1;
    else if (b0 >= 0xe0 && b0 <= 0xef) {
      need = 2;
      if (b0 === 0xe0) min = 0xa0;
      else if (b0 === 0xed) max = 0x9f; // U+D800..U+DFFF are not characters
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
      need = 3;
      if (b0 === 0xf0) min = 0x90;
      else if (b0 === 0xf4) max = 0x8f;
    } else {
      this.pos = at;
      this.fail("utf8", `invalid UTF-8 at byte ${at}`);
    }
    for (let i = 1; i <= need; i++) {
      const b = at + i < end ? bytes[at + i] : -1;
      const lo = i === 1 ? min : 0x80;
      const hi = i === 1 ? max : 0xbf;
      if (b < lo || b > hi) {
        this.pos = at;
        this.fail("utf8", `invalid UTF-8 at byte ${at}`);
      }
    }
    return at + need + 1;
  }

  private scanNumber(): void {
    const { bytes, end } = this;
    let pos = this.pos;
    if (bytes[pos] === 0x2d) pos++;
    if (!isDigitAt(bytes, pos, end)) {
      this.pos = pos;
      this.unexpected("a digit");
    }
    if (bytes[pos] === 0x30) pos++;
    else while (isDigitAt(bytes, pos, end)) pos++;
    if (pos < end && bytes[pos] === 0x2e) {
      pos++;
      if (!isDigitAt(bytes, pos, end)) {
        this.pos = pos;
        this.unexpected("a digit");
      }
      while (isDigitAt(bytes, pos, end)) pos++;
    }
    if (pos < end && (bytes[pos] | 0x20) === 0x65) {
      pos++;
      if (pos < end && (bytes[pos] === 0x2b || bytes[pos] === 0x2d)) pos++;
      if (!isDigitAt(bytes, pos, end)) {
        this.pos = pos;
        this.unexpected("a digit");
      }
      while (isDigitAt(bytes, pos, end)) pos++;
    }
    this.pos = pos;
  }

  private scanLiteral(word: string): void {
    const { bytes, end } = this;
    for (let i = 0; i < word.length; i++) {
      if (this.pos + i >= end || bytes[this.pos + i] !== word.charCodeAt(i)) this.unexpected("a JSON value");
    }
    this.pos += word.length;
  }

  /** The text of the key whose string starts at `from` and ends before `to` (its closing quote). */
  private keyText(from: number, to: number): string {
    const { bytes } = this;
    let plain = true;
    for (let i = from + 1; i < to - 1 && plain; i++) plain = bytes[i] !== BACKSLASH && bytes[i] < 0x80;
    if (plain) {
      let s = "";
      for (let i = from + 1; i < to - 1; i++) s += String.fromCharCode(bytes[i]);
      return s;
    }
    // Already validated: escapes and UTF-8 decode as JSON.parse would.
    return JSON.parse(keyDecoder.decode(bytes.subarray(from, to))) as string;
  }

  private open(kind: 0 | 1): void {
    if (this.depth >= MAX_JSON_DEPTH)
      this.fail("depth", `JSON nested deeper than ${MAX_JSON_DEPTH} levels at byte ${this.pos}`);
    this.kinds[this.depth] = kind;
    if (this.depth <= PATH_DEPTH + 1) this.counts[this.depth] = 0;
    this.depth++;
    this.pos++;
  }

  /** Called with the path element a value is about to get, at depth `this.depth` (its container's). */
  private enter(element: string | number): void {
    const d = this.depth;
    if (d <= PATH_DEPTH) this.path[d - 1] = element;
    if (d <= PATH_DEPTH + 1) this.counts[d - 1]++;
    if (!this.recordsProfile) return;
    // records[i].headers: count members as they come, refusing before the rest is read.
    if (
      d === 4 &&
      this.path[0] === "records" &&
      this.kinds[1] === 0 &&
      this.path[2] === "headers" &&
      this.kinds[3] === 1
    ) {
      if (this.counts[3] > MAX_HEADERS_PER_RECORD)
        this.fail(
          "headers",
          `a record carries more than ${MAX_HEADERS_PER_RECORD} headers (Floe's limit per record)`,
        );
    }
    if (d === 1 && element === "records") this.recordValues.length = 0;
  }

  /** Where records[i].value starts, when the value about to be scanned is one. */
  private markStart(): void {
    if (
      this.recordsProfile &&
      this.depth === 3 &&
      this.path[2] === "value" &&
      this.path[0] === "records" &&
      this.kinds[0] === 1 &&
      this.kinds[1] === 0 &&
      this.kinds[2] === 1
    )
      this.valueStart = this.pos;
  }

  /** A value ended at depth this.depth (its container's). */
  private markEnd(): void {
    if (this.valueStart >= 0 && this.depth === 3) {
      this.recordValues[this.path[1] as number] = { start: this.valueStart, end: this.pos };
      this.valueStart = -1;
    }
  }

  /** Scans one JSON text: a value with optional whitespace around it, and nothing else. */
  run(): void {
    const { bytes, end } = this;
    this.skipWhitespace();
    // Each turn scans one value (opening a container counts as starting its first member's value).
    value: for (;;) {
      this.skipWhitespace();
      if (this.pos >= end) this.unexpected("a JSON value");
      if (this.recordsProfile) this.markStart();
      const b = bytes[this.pos];
      if (b === 0x7b /* { */) {
        this.open(1);
        this.skipWhitespace();
        if (this.pos < end && bytes[this.pos] === 0x7d) {
          this.depth--;
          this.pos++;
        } else {
          this.memberKey();
          continue;
        }
      } else if (b === 0x5b /* [ */) {
        this.open(0);
        this.skipWhitespace();
        if (this.pos < end && bytes[this.pos] === 0x5d) {
          this.depth--;
          this.pos++;
        } else {
          this.enter(0);
          continue;
        }
      } else if (b === QUOTE) this.scanString();
      else if (b === 0x2d || (b >= 0x30 && b <= 0x39)) this.scanNumber();
      else if (b === 0x74) this.scanLiteral("true");
      else if (b === 0x66) this.scanLiteral("false");
      else if (b === 0x6e) this.scanLiteral("null");
      else this.unexpected("a JSON value");
      // A value is complete: close every container it completes, then go on to the next member.
      for (;;) {
        if (this.recordsProfile) this.markEnd();
        if (this.depth === 0) {
          this.skipWhitespace();
          if (this.pos < end) this.unexpected("the end of the JSON text");
          return;
        }
        this.skipWhitespace();
        const isObject = this.kinds[this.depth - 1] === 1;
        const c = this.pos < end ? bytes[this.pos] : -1;
        if (c === 0x2c /* , */) {
          this.pos++;
          if (isObject) {
            this.skipWhitespace();
            this.memberKey();
          } else {
            const d = this.depth;
            this.enter(d <= PATH_DEPTH ? this.counts[d - 1] : 0);
          }
          continue value;
        }
        if (c === (isObject ? 0x7d : 0x5d)) {
          this.depth--;
          this.pos++;
          continue;
        }
        this.unexpected(isObject ? "',' or '}'" : "',' or ']'");
      }
    }
  }

  /** A member's key and colon; leaves pos at its value. */
  private memberKey(): void {
    const { bytes, end } = this;
    if (this.pos >= end || bytes[this.pos] !== QUOTE) this.unexpected("a string key");
    const from = this.pos;
    this.scanString();
    const d = this.depth;
    // Keys are decoded only where a produce body's path needs them; others are only scanned.
    this.enter(d <= PATH_DEPTH && this.recordsProfile ? this.keyText(from, this.pos) : "");
    this.skipWhitespace();
    if (this.pos >= end || bytes[this.pos] !== 0x3a) this.unexpected("':'");
    this.pos++;
  }
}

const checker = new Scanner(new Uint8Array(0), 0, 0, false);

/**
 * Checks that `bytes[start, end)` is one JSON text Floe accepts (see the file's comment); throws
 * JsonTextError saying why not (with keys left out of its path: only a produce body's are named).
 */
export function checkJsonText(bytes: Uint8Array, start = 0, end = bytes.length): void {
  checker.reset(bytes, start, end).run();
}

/** Whether `bytes` is one JSON text Floe accepts (what a stored value must be to be spliced into a JSON answer). */
export function isJsonText(bytes: Uint8Array): boolean {
  try {
    checkJsonText(bytes);
    return true;
  } catch (e) {
    if (e instanceof JsonTextError) return false;
    throw e;
  }
}

/**
 * Scans a produce request body: validates it as checkJsonText does, refuses a record with more than
 * MAX_HEADERS_PER_RECORD headers as soon as the one too many is read, and answers the source span
 * of each records[i].value (the last one where JSON.parse would keep the last of duplicate keys).
 */
export function scanProduceBody(bytes: Uint8Array): ScannedBody {
  const scanner = new Scanner(bytes, 0, bytes.length, true);
  scanner.run();
  return { recordValues: scanner.recordValues };
}
