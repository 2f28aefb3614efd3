/**
 * The CLI's argument parser: `--name value`, `--name=value`, boolean flags, repeatable options and
 * `--` to end options. Small and strict on purpose, so every mistake gets a one-line message that
 * names the option, instead of a guess.
 */

export interface OptionSpec {
  /** A flag takes no value; a value option takes exactly one. */
  kind: "flag" | "value";
  description: string;
  /** Shown in help: `--topic <name>`. */
  valueName?: string;
  /** May be given several times; the values are collected in order. */
  repeatable?: boolean;
  /** One-letter alias, e.g. "h" for -h. */
  short?: string;
  /**
   * A Kafka option that means nothing here: accepted, and this one-line note goes to stderr when it
   * is given (e.g. "Floe has no internal topics").
   */
  ignoredBecause?: string;
  /** A Kafka option Floe cannot honour: refused with this one-line reason instead of "unknown option". */
  refusedBecause?: string;
}

export type OptionSpecs = Record<string, OptionSpec>;

export interface ParsedArgs {
  /** Each given option's last value (flags: true), or all values of a repeatable option. */
  options: Map<string, string | true | string[]>;
  positionals: string[];
}

/** A mistake in how the command was typed: exit code 2, and a pointer to --help. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export function parseArgs(argv: readonly string[], specs: OptionSpecs): ParsedArgs {
  const options = new Map<string, string | true | string[]>();
  const positionals: string[] = [];
  const byShort = new Map<string, string>();
  for (const [name, spec] of Object.entries(specs)) if (spec.short) byShort.set(spec.short, name);

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    let name: string;
    let inline: string | undefined;
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
      inline = eq === -1 ? undefined : arg.slice(eq + 1);
    } else if (/^-[a-zA-Z]$/.test(arg)) {
      const long = byShort.get(arg.slice(1));
      if (!long) throw new UsageError(`unknown option ${arg}`);
      name = long;
    } else {
      positionals.push(arg);
      continue;
    }
    const spec = specs[name];
    if (!spec || !Object.hasOwn(specs, name)) throw new UsageError(unknownOption(name, specs));
    if (spec.refusedBecause) throw new UsageError(`--${name} is not supported: ${spec.refusedBecause}`);
    if (spec.kind === "flag") {
      if (inline !== undefined) throw new UsageError(`option --${name} takes no value`);
      options.set(name, true);
      continue;
    }
    let value = inline;
    if (value === undefined) {
      const next = argv[i + 1];
      // A following option is a forgotten value, not the value; "-1"-style numbers still pass.
      if (next === undefined || (next.startsWith("--") && next.length > 2) || /^-[a-zA-Z]$/.test(next)) {
        throw new UsageError(`option --${name} needs a value${spec.valueName ? ` (${spec.valueName})` : ""}`);
      }
      value = next;
      i++;
    }
    if (spec.repeatable) {
      const previous = options.get(name);
      options.set(name, [...(Array.isArray(previous) ? previous : []), value]);
    } else {
      options.set(name, value);
    }
  }
  return { options, positionals };
}

function unknownOption(name: string, specs: OptionSpecs): string {
  const close = Object.keys(specs).find((candidate) => editDistance(candidate, name) <= 2);
  return `unknown option --${name}${close ? ` (did you mean --${close}?)` : ""}`;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

/** The one-line notes of the given options that Floe accepts and ignores, in the order of `specs`. */
export function ignoredOptionNotes(parsed: ParsedArgs, specs: OptionSpecs): string[] {
  return Object.entries(specs)
    .filter(([name, spec]) => spec.ignoredBecause && parsed.options.has(name))
    .map(([name, spec]) => `--${name} is ignored: ${spec.ignoredBecause}`);
}

/** Typed reads of parsed options, each failing with a UsageError that names the option. */
export class OptionReader {
  constructor(private readonly parsed: ParsedArgs) {}

  has(name: string): boolean {
    return this.parsed.options.has(name);
  }

  flag(name: string): boolean {
    return this.parsed.options.get(name) === true;
  }

  string(name: string): string | undefined {
    const value = this.parsed.options.get(name);
    return typeof value === "string" ? value : undefined;
  }

  requiredString(name: string): string {
    const value = this.string(name);
    if (value === undefined || value === "") throw new UsageError(`--${name} is required`);
    return value;
  }

  list(name: string): string[] {
    const value = this.parsed.options.get(name);
    return Array.isArray(value) ? value : typeof value === "string" ? [value] : [];
  }

  integer(name: string, min: number): number | undefined {
    const raw = this.string(name);
    if (raw === undefined) return undefined;
    const n = /^-?\d+$/.test(raw.trim()) ? Number(raw) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < min) {
      throw new UsageError(`--${name} must be an integer >= ${min}, got "${raw}"`);
    }
    return n;
  }

  /** `k=v` pairs, as kafka-topics --config takes them. */
  keyValues(name: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const pair of this.list(name)) {
      const eq = pair.indexOf("=");
      if (eq <= 0) throw new UsageError(`--${name} expects key=value, got "${pair}"`);
      out[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
    return out;
  }

  /** The arguments that are not options, in order: the name in `floe subscriptions describe <name>`. */
  positionals(): readonly string[] {
    return this.parsed.positionals;
  }

  noPositionals(): void {
    if (this.parsed.positionals.length > 0) {
      throw new UsageError(`unexpected argument "${this.parsed.positionals[0]}"`);
    }
  }
}
