import { UsageError } from "./args.js";

/**
 * kafka-topics.sh and kafka-consumer-groups.sh take their action as a flag anywhere on the line
 * (`--create`, `--list`, …); Floe's commands are words. `floe topics --create --topic t` is
 * rewritten to `floe topics create --topic t`, so Kafka's commands work as typed.
 */
const ACTIONS: Record<string, readonly string[]> = {
  topics: ["create", "list", "describe", "alter", "delete"],
  groups: ["list", "describe", "reset-offsets", "delete"],
};

/** Kafka actions with no Floe command: refused with the reason instead of a usage dump. */
const UNSUPPORTED: Record<string, Record<string, string>> = {
  topics: {},
  groups: {
    "delete-offsets":
      "floe groups has no --delete-offsets yet; floe groups reset-offsets moves a group's offsets, floe groups delete removes the group",
  },
};

/**
 * The argument list with a Kafka-style action flag turned into Floe's command word, or `argv`
 * unchanged when it has none. Only applies right after the group word (`floe topics --list`).
 */
export function kafkaStyleArgv(argv: readonly string[]): readonly string[] {
  const group = argv[0];
  const actions = ACTIONS[group];
  if (!actions || argv.length < 2 || !argv[1].startsWith("-")) return argv;
  const rest = argv.slice(1);
  for (const arg of rest) {
    const reason = UNSUPPORTED[group][arg.replace(/^--/, "")];
    if (arg.startsWith("--") && reason) throw new UsageError(`${arg} is not supported: ${reason}`);
  }
  const given = rest.filter((arg) => actions.some((a) => arg === `--${a}`));
  if (given.length === 0) return argv;
  if (given.length > 1) {
    throw new UsageError(`give one action, not ${given.join(" and ")}`);
  }
  const index = rest.indexOf(given[0]);
  return [group, given[0].slice(2), ...rest.slice(0, index), ...rest.slice(index + 1)];
}

/** The one-line answer to `floe topics --something` with no action: what to type instead. */
export function missingAction(group: string, arg: string): UsageError | undefined {
  const actions = ACTIONS[group];
  if (!actions) return undefined;
  const words = actions.join(", ");
  const flags = actions.map((a) => `--${a}`).join(", ");
  const what = arg.startsWith("-") ? `${arg} is not a ${group} action` : `"${arg}" is not a ${group} command`;
  return new UsageError(`${what}; give one of ${words} (or Kafka's ${flags})`);
}
