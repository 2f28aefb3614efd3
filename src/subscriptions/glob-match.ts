/**
 * EventBridge's `wildcard` matcher: `*` stands for any run of characters (none included), `\*` for
 * a literal star and `\\` for a backslash. Compiled to its literal pieces and matched without a
 * regular expression: the first piece is a prefix, the last a suffix, and each middle piece is taken
 * at its leftmost place after the one before. With stars only, leftmost is never worse than any
 * other choice, so there is no backtracking and a match costs at most the text's length times the
 * pattern's, whatever a user writes.
 */

/** Why a wildcard pattern is refused, for the caller to say where. */
export class GlobSyntaxError extends Error {}

export type GlobMatcher = (text: string) => boolean;

/** The pattern's literal pieces between its unescaped stars: `a*b*` is ["a", "b", ""]. */
function pieces(pattern: string): string[] {
  const out: string[] = [];
  let piece = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "\\") {
      const next = pattern[i + 1];
      if (next !== "*" && next !== "\\") {
        throw new GlobSyntaxError("a backslash in a wildcard escapes only '*' or '\\'");
      }
      piece += next;
      i++;
    } else if (c === "*") {
      // EventBridge refuses "**": it means what "*" does and only multiplies the work.
      if (pattern[i + 1] === "*") throw new GlobSyntaxError("a wildcard may not hold consecutive '*'");
      out.push(piece);
      piece = "";
    } else {
      piece += c;
    }
  }
  out.push(piece);
  return out;
}

export function compileGlob(pattern: string): GlobMatcher {
  const parts = pieces(pattern);
  if (parts.length === 1) {
    const exact = parts[0];
    return (text) => text === exact;
  }
  const first = parts[0];
  const last = parts[parts.length - 1];
  const middle = parts.slice(1, -1).filter((p) => p.length > 0);
  const fixed = first.length + last.length;
  return (text) => {
    if (text.length < fixed || !text.startsWith(first) || !text.endsWith(last)) return false;
    // The middle pieces must fit, in order, between the prefix and the suffix.
    let from = first.length;
    const end = text.length - last.length;
    for (let i = 0; i < middle.length; i++) {
      const at = text.indexOf(middle[i], from);
      if (at < 0 || at + middle[i].length > end) return false;
      from = at + middle[i].length;
    }
    return true;
  };
}
