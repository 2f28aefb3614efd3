/**
 * Key ordering shared by every adapter. S3 lists keys and DynamoDB and SQLite sort keys in UTF-8
 * byte order, which is Unicode code-point order; JavaScript's `<` compares UTF-16 code units, which
 * disagrees for characters above U+FFFF versus U+E000..U+FFFF. The in-process adapters use this
 * comparison so every backend orders keys identically.
 */
import type { KeyRange } from "./ports.js";

/** Maps a UTF-16 code unit so that comparing mapped units orders strings by code point. */
function fixup(unit: number): number {
  if (unit >= 0xe000) return unit - 0x800;
  if (unit >= 0xd800) return unit + 0x2000;
  return unit;
}

/** Negative, zero or positive as `a` sorts before, equal to or after `b` in code-point order. */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return fixup(x) - fixup(y);
  }
  return a.length - b.length;
}

/** True when `key` satisfies every bound given in `range`. */
export function keyInRange(key: string, range: KeyRange): boolean {
  if (range.gt !== undefined && compareKeys(key, range.gt) <= 0) return false;
  if (range.gte !== undefined && compareKeys(key, range.gte) < 0) return false;
  if (range.lt !== undefined && compareKeys(key, range.lt) >= 0) return false;
  if (range.lte !== undefined && compareKeys(key, range.lte) > 0) return false;
  if (range.prefix !== undefined && !key.startsWith(range.prefix)) return false;
  return true;
}

const MAX_CODE_POINT = 0x10ffff;

/**
 * The smallest string greater than every string starting with `prefix`, so that the strings
 * starting with `prefix` are exactly those in [prefix, result). Undefined when there is none
 * (an empty prefix, or one made only of U+10FFFF).
 */
export function prefixUpperBound(prefix: string): string | undefined {
  const points = Array.from(prefix, (c) => c.codePointAt(0)!);
  while (points.length > 0) {
    let last = points.pop()!;
    if (last === MAX_CODE_POINT) continue;
    last += 1;
    if (last >= 0xd800 && last <= 0xdfff) last = 0xe000;
    points.push(last);
    return String.fromCodePoint(...points);
  }
  return undefined;
}

/**
 * Folds a KeyRange into the tightest single lower and upper bound (prefix included). `inclusive`
 * says whether the bound value itself may match. Returns `empty` when no key can match.
 */
export interface Bounds {
  lower?: { value: string; inclusive: boolean };
  upper?: { value: string; inclusive: boolean };
  empty: boolean;
}

export function foldBounds(range: KeyRange): Bounds {
  let lower: Bounds["lower"];
  let upper: Bounds["upper"];
  const raiseLower = (value: string, inclusive: boolean) => {
    if (!lower) lower = { value, inclusive };
    else {
      const c = compareKeys(value, lower.value);
      if (c > 0 || (c === 0 && !inclusive)) lower = { value, inclusive };
    }
  };
  const lowerUpper = (value: string, inclusive: boolean) => {
    if (!upper) upper = { value, inclusive };
    else {
      const c = compareKeys(value, upper.value);
      if (c < 0 || (c === 0 && !inclusive)) upper = { value, inclusive };
    }
  };
  if (range.gt !== undefined) raiseLower(range.gt, false);
  if (range.gte !== undefined) raiseLower(range.gte, true);
  if (range.prefix !== undefined && range.prefix !== "") {
    raiseLower(range.prefix, true);
    const end = prefixUpperBound(range.prefix);
    if (end !== undefined) lowerUpper(end, false);
  }
  if (range.lt !== undefined) lowerUpper(range.lt, false);
  if (range.lte !== undefined) lowerUpper(range.lte, true);
  let empty = false;
  if (lower && upper) {
    const c = compareKeys(lower.value, upper.value);
    empty = c > 0 || (c === 0 && !(lower.inclusive && upper.inclusive));
  }
  return { lower, upper, empty };
}
