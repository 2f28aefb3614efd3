import { RE2JS, RE2JSException } from "re2js";
import { FloeError } from "../errors.js";
import { compareStrings } from "./partition-set.js";

/**
 * KIP-848 subscription regexes (subscribedTopicRegex), compiled and matched the way Kafka's group
 * coordinator does: RE2/J syntax (com.google.re2j.Pattern, flags 0), matched against the whole topic
 * name (Matcher.matches), so "orders" does not subscribe to "orders-dlq". re2js is a port of the same
 * engine; like RE2/J it matches in time linear in the name, so a client's pattern cannot stall the
 * event loop the way a backtracking RegExp can (`(a+)+$` against "aaaa…-" is exponential there).
 */

/**
 * Longer patterns are refused with INVALID_REGULAR_EXPRESSION. Kafka sets no limit, but nothing real comes near
 * it (a list of 40 topic names spelled out fits), and it bounds compile time and the compiled
 * program's size, which RE2 makes linear in the pattern's length.
 */
export const MAX_REGEX_LENGTH = 1000;

/**
 * Compiled patterns and their matches kept at most, least recently used first out: one group of
 * 3,000 members each with its own pattern stays cached; memory stays bounded whatever clients send.
 */
const MAX_CACHED_PATTERNS = 4096;
/** Total topic names held by cached matches (~8 MB of references at most). */
const MAX_CACHED_MATCHES = 1_000_000;
/**
 * Total length of the cached patterns' sources. A compiled pattern with its matching state takes
 * ~125 bytes per source character (90 KB for a 724-character one, measured), so ~25 MB at most.
 */
const MAX_CACHED_PATTERN_CHARS = 200_000;

export interface TopicPattern {
  readonly source: string;
  /** True when the pattern matches the whole topic name. */
  matches(topic: string): boolean;
}

/**
 * The topic list as one listing returned it, with what changed since the listing before, so a
 * pattern evaluated against that one is brought up to date by matching only the new names.
 */
export interface TopicList {
  readonly names: readonly string[];
  readonly set: ReadonlySet<string>;
  /** Unique in the process. Caches hold versions, not lists, so they never keep an old list alive. */
  readonly version: number;
  /** The listing before this one, and the names this one added to it. */
  readonly previousVersion: number | undefined;
  readonly added: readonly string[];
  readonly removedAny: boolean;
}

interface CachedPattern {
  pattern: TopicPattern;
  /** The version of the list `matched` was computed against, and the topics of it the pattern matches. */
  version: number | undefined;
  matched: readonly string[];
}

let versions = 0;

const cache = new Map<string, CachedPattern>();
let cachedMatches = 0;
let cachedChars = 0;

/** Compiles a subscription regex, or throws INVALID_REGULAR_EXPRESSION (Kafka's code 128) saying why it is not one. */
export function compileTopicRegex(source: string): TopicPattern {
  return entry(source).pattern;
}

/**
 * The names of `list` that `source` matches, sorted by name. Evaluated once per pattern and
 * listing: later calls with the same list answer from the cache, and a list that only grew or
 * shrank since the one cached is brought up to date by matching its new names alone.
 */
export function topicsMatching(source: string, list: TopicList): readonly string[] {
  const e = entry(source);
  if (e.version === list.version) return e.matched;
  let matched: string[];
  if (e.version !== undefined && e.version === list.previousVersion) {
    matched = list.removedAny ? e.matched.filter((t) => list.set.has(t)) : [...e.matched];
    let grew = false;
    for (const t of list.added) {
      if (e.pattern.matches(t)) {
        matched.push(t);
        grew = true;
      }
    }
    if (grew) matched.sort(compareStrings);
  } else {
    matched = list.names.filter((t) => e.pattern.matches(t)).sort(compareStrings);
  }
  cachedMatches += matched.length - e.matched.length;
  e.version = list.version;
  e.matched = matched;
  evict();
  return matched;
}

/**
 * The list to match against for a listing, reusing `last` when the names are the same so patterns
 * cached against it still apply. Costs one pass over the names.
 */
export function topicList(names: readonly string[], last: TopicList | undefined): TopicList {
  if (last && last.names.length === names.length && last.names.every((n, i) => n === names[i])) return last;
  const set = new Set(names);
  const added = last ? names.filter((n) => !last.set.has(n)) : [...names];
  const removedAny = last !== undefined && last.names.length + added.length !== names.length;
  return { names, set, version: ++versions, previousVersion: last?.version, added, removedAny };
}

function entry(source: string): CachedPattern {
  const hit = cache.get(source);
  if (hit) {
    // Map iteration order is insertion order: re-inserting marks it most recently used.
    cache.delete(source);
    cache.set(source, hit);
    return hit;
  }
  const e: CachedPattern = { pattern: compile(source), version: undefined, matched: [] };
  cache.set(source, e);
  cachedChars += source.length;
  evict();
  return e;
}

function evict(): void {
  for (const [source, e] of cache) {
    if (
      cache.size <= MAX_CACHED_PATTERNS &&
      cachedMatches <= MAX_CACHED_MATCHES &&
      cachedChars <= MAX_CACHED_PATTERN_CHARS
    ) {
      break;
    }
    cache.delete(source);
    cachedMatches -= e.matched.length;
    cachedChars -= source.length;
  }
}

function compile(source: string): TopicPattern {
  if (source.length > MAX_REGEX_LENGTH) {
    throw new FloeError(
      "INVALID_REGULAR_EXPRESSION",
      `subscribedTopicRegex is ${source.length} characters long; the limit is ${MAX_REGEX_LENGTH}.`,
    );
  }
  let re: RE2JS;
  try {
    re = RE2JS.compile(source);
  } catch (e) {
    if (!(e instanceof RE2JSException)) throw e;
    throw new FloeError(
      "INVALID_REGULAR_EXPRESSION",
      `subscribedTopicRegex \`${source}\` is not a valid regular expression: ${e.message}.`,
      { cause: e },
    );
  }
  return { source, matches: (topic) => re.testExact(topic) };
}
