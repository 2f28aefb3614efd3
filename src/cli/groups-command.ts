import { UsageError } from "./args.js";
import type { Command, CommandContext } from "./command.js";
import { errorLine } from "./error-line.js";
import { KAFKA_ADMIN_OPTIONS } from "./topics-commands.js";
import type { Admin, OffsetResetTarget } from "../client/admin.js";
import { FloeError } from "../errors.js";
import type { GroupDescription, GroupOffset, PlannedOffset } from "../groups/types.js";
import { formatTable } from "./format-table.js";

/** Admin calls fail fast: a person at a prompt is better served by an error in a second than by retries. */
const ADMIN_RETRY = { retries: 2 };

const GROUP = { kind: "value", valueName: "id", description: "the consumer group" } as const;

function write(context: CommandContext, text: string): void {
  context.io.stdout.write(text);
}

const list: Command = {
  path: ["groups", "list"],
  summary: "List consumer groups, one per line",
  kafka: "kafka-consumer-groups.sh --list",
  usage: "floe groups list [--state] [options]",
  connects: true,
  options: { state: { kind: "flag", description: "show each group's state too" }, ...KAFKA_ADMIN_OPTIONS },
  async run(context) {
    context.options.noPositionals();
    const { groups } = await context.client({ retry: ADMIN_RETRY }).admin().listGroups();
    const sorted = [...groups].sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0));
    if (context.options.flag("state")) {
      write(
        context,
        formatTable(
          ["GROUP", "STATE"],
          sorted.map((g) => [g.groupId, g.state]),
        ),
      );
    } else if (sorted.length > 0) {
      write(context, `${sorted.map((g) => g.groupId).join("\n")}\n`);
    }
    return 0;
  },
};

const describe: Command = {
  path: ["groups", "describe"],
  summary: "Show a group's partitions: committed offset, log-end offset, lag and owner",
  kafka: "kafka-consumer-groups.sh --describe",
  usage: "floe groups describe (--group <id> | --all-groups) [--offsets | --members | --state] [options]",
  connects: true,
  options: {
    group: { ...GROUP, repeatable: true, description: "the group to describe (repeatable)" },
    "all-groups": { kind: "flag", description: "describe every group" },
    offsets: { kind: "flag", description: "show the partitions' offsets and lag (the default)" },
    members: { kind: "flag", description: "list the members and what each is assigned instead" },
    state: { kind: "flag", description: "show the group's state, epoch and assignor instead" },
    verbose: {
      kind: "flag",
      description: "accepted for Kafka familiarity: every column is always shown",
      ignoredBecause: "every column is always shown",
    },
    timeout: {
      kind: "value",
      valueName: "ms",
      description: "accepted for Kafka familiarity: admin calls fail fast",
      ignoredBecause: "admin calls fail fast (two retries)",
    },
    ...KAFKA_ADMIN_OPTIONS,
  },
  notes: [
    "CURRENT-OFFSET is the committed offset (the next record the group reads), LOG-END-OFFSET the",
    "partition's high-water mark and LAG their difference; '-' where nothing is committed or nobody owns it.",
  ],
  examples: ["floe groups describe --group orders-service", "floe groups describe --all-groups --state"],
  async run(context) {
    const { options } = context;
    options.noPositionals();
    const admin = context.client({ retry: ADMIN_RETRY }).admin();
    let ids = options.list("group");
    if (options.flag("all-groups")) ids = (await admin.listGroups()).groups.map((g) => g.groupId).sort();
    else if (ids.length === 0) throw new UsageError("--group or --all-groups is required");
    const views = ["offsets", "members", "state"].filter((view) => options.flag(view));
    if (views.length > 1)
      throw new UsageError(
        `give one of --offsets, --members or --state, not ${views.map((v) => `--${v}`).join(" and ")}`,
      );
    for (const id of ids) {
      const group = await admin.describeGroup(id);
      if (options.flag("state")) write(context, `\n${formatState(group)}`);
      else if (options.flag("members")) write(context, `\n${formatMembers(group)}`);
      else {
        const logEnd = await logEndOffsets(group, (topic) => admin.describeTopic(topic));
        write(context, `\n${formatOffsets(group, logEnd)}`);
      }
    }
    return 0;
  },
};

/** Log-end offsets of assigned partitions with nothing committed: the committed ones carry theirs. */
async function logEndOffsets(
  group: GroupDescription,
  describeTopic: (topic: string) => Promise<{ partitions: { partition: number; highWatermark: number }[] }>,
): Promise<Map<string, number>> {
  const committed = new Set(group.offsets.map((o) => `${o.topic}\u0000${o.partition}`));
  const topics = new Set<string>();
  for (const m of group.members) {
    for (const { topic, partitions } of m.assignment) {
      if (partitions.some((p) => !committed.has(`${topic}\u0000${p}`))) topics.add(topic);
    }
  }
  const ends = new Map<string, number>();
  for (const topic of topics) {
    const described = await describeTopic(topic).catch(() => undefined);
    for (const p of described?.partitions ?? []) ends.set(`${topic}\u0000${p.partition}`, p.highWatermark);
  }
  return ends;
}

/** kafka-consumer-groups --describe: one row per partition that is assigned or has a committed offset. */
function formatOffsets(group: GroupDescription, logEnd: Map<string, number> = new Map()): string {
  const rows = new Map<
    string,
    { topic: string; partition: number; offset?: GroupOffset; owner?: { id: string; client: string } }
  >();
  const row = (topic: string, partition: number) => {
    const key = `${topic}\u0000${partition}`;
    let r = rows.get(key);
    if (!r) rows.set(key, (r = { topic, partition }));
    return r;
  };
  for (const m of group.members) {
    for (const { topic, partitions } of m.assignment) {
      for (const p of partitions) row(topic, p).owner = { id: m.memberId, client: m.clientId ?? "-" };
    }
  }
  for (const o of group.offsets) row(o.topic, o.partition).offset = o;
  const sorted = [...rows.values()].sort((a, b) =>
    a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition,
  );
  const lines = formatTable(
    ["GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "CLIENT-ID"],
    sorted.map((r) => {
      const end = r.offset?.highWatermark ?? logEnd.get(`${r.topic}\u0000${r.partition}`);
      return [
        group.groupId,
        r.topic,
        r.partition,
        r.offset?.offset ?? "-",
        end ?? "-",
        r.offset?.lag ?? "-",
        r.owner?.id ?? "-",
        r.owner?.client ?? "-",
      ];
    }),
  );
  const note =
    group.members.length === 0 ? `Consumer group '${group.groupId}' has no active members.\n\n` : "";
  return `${note}${lines}`;
}

function formatMembers(group: GroupDescription): string {
  if (group.members.length === 0) return `Consumer group '${group.groupId}' has no active members.\n`;
  return formatTable(
    ["GROUP", "CONSUMER-ID", "CLIENT-ID", "EPOCH", "#PARTITIONS", "ASSIGNMENT"],
    group.members.map((m) => [
      group.groupId,
      m.memberId,
      m.clientId ?? "-",
      m.memberEpoch,
      m.assignment.reduce((n, a) => n + a.partitions.length, 0),
      m.assignment.map((a) => `${a.topic}(${a.partitions.join(",")})`).join(",") || "-",
    ]),
  );
}

function formatState(group: GroupDescription): string {
  return formatTable(
    ["GROUP", "STATE", "GROUP-EPOCH", "ASSIGNOR", "#MEMBERS"],
    [[group.groupId, group.state, group.groupEpoch, group.assignor, group.members.length]],
  );
}

const TARGETS = [
  "to-earliest",
  "to-latest",
  "to-current",
  "to-offset",
  "to-datetime",
  "by-duration",
  "shift-by",
] as const;

const resetOffsets: Command = {
  path: ["groups", "reset-offsets"],
  summary: "Move a group's committed offsets (a dry run unless --execute)",
  kafka: "kafka-consumer-groups.sh --reset-offsets",
  usage:
    "floe groups reset-offsets (--group <id>... | --all-groups) (--topic <name>[:<partitions>]... | --all-topics) (--to-earliest | --to-latest | --to-current | --to-offset <n> | --to-datetime <time> | --by-duration <PnDTnHnMnS> | --shift-by <n>) [--execute] [options]",
  connects: true,
  options: {
    group: { ...GROUP, repeatable: true, description: "the consumer group (repeatable)" },
    "all-groups": { kind: "flag", description: "every group" },
    topic: {
      kind: "value",
      valueName: "name[:p,p…]",
      repeatable: true,
      description:
        "the topic, optionally with the partitions to reset (default: all), e.g. orders:0,2 (repeatable)",
    },
    "all-topics": { kind: "flag", description: "every topic the group has committed offsets for" },
    "to-earliest": { kind: "flag", description: "to each partition's log start" },
    "to-latest": { kind: "flag", description: "to each partition's log end (skip everything so far)" },
    "to-current": {
      kind: "flag",
      description: "to the committed offset (the log end where nothing is committed)",
    },
    "to-offset": { kind: "value", valueName: "n", description: "to this offset" },
    "to-datetime": {
      kind: "value",
      valueName: "time",
      description: "to the first record at or after this time: ISO-8601 (local time without an offset) or ms",
    },
    "by-duration": {
      kind: "value",
      valueName: "PnDTnHnMnS",
      description: "to the first record at or after this long ago, e.g. PT10M or P1DT12H",
    },
    "shift-by": {
      kind: "value",
      valueName: "n",
      description: "move the committed offset by n (negative: back)",
    },
    execute: { kind: "flag", description: "apply the plan (without it, only print it)" },
    "dry-run": { kind: "flag", description: "only print the plan (the default)" },
    export: {
      kind: "flag",
      description: "Kafka's CSV plan export: not supported",
      refusedBecause: "Floe prints the plan as a table only; run without --execute to see it",
    },
    "from-file": {
      kind: "value",
      valueName: "file",
      description: "Kafka's CSV plan import: not supported",
      refusedBecause: "Floe cannot read a plan file yet; use --to-offset per --topic name:partition",
    },
    ...KAFKA_ADMIN_OPTIONS,
  },
  notes: [
    "The group must have no active members. Offsets are clamped to [log start, log end], as Kafka does.",
  ],
  examples: [
    "floe groups reset-offsets --group orders-service --topic orders --to-earliest --execute",
    "floe groups reset-offsets --group orders-service --topic orders:0 --shift-by -10",
    "floe groups --reset-offsets --group orders-service --all-topics --by-duration PT10M --execute",
  ],
  async run(context) {
    const { options } = context;
    options.noPositionals();
    const given = TARGETS.filter((t) => options.has(t));
    if (given.length !== 1) {
      throw new UsageError(`give exactly one of ${TARGETS.map((t) => `--${t}`).join(", ")}`);
    }
    if (options.flag("execute") && options.flag("dry-run"))
      throw new UsageError("give --execute or --dry-run, not both");
    const named = options.list("group");
    if (named.length === 0 && !options.flag("all-groups"))
      throw new UsageError("--group or --all-groups is required");
    if (named.length > 0 && options.flag("all-groups"))
      throw new UsageError("give --group or --all-groups, not both");
    const topics = options.list("topic").map(parseTopicPartitions);
    if (topics.length === 0 && !options.flag("all-topics"))
      throw new UsageError("--topic or --all-topics is required");
    if (topics.length > 0 && options.flag("all-topics"))
      throw new UsageError("give --topic or --all-topics, not both");
    const to = resetTarget(context, given[0]);
    const execute = options.flag("execute");
    const admin = context.client({ retry: ADMIN_RETRY }).admin();
    const groupIds = options.flag("all-groups")
      ? (await admin.listGroups()).groups.map((g) => g.groupId).sort()
      : named;
    const rows: [string, PlannedOffset][] = [];
    for (const groupId of groupIds) {
      const targets = options.flag("all-topics")
        ? [...new Set((await admin.fetchOffsets({ groupId })).map((o) => o.topic))]
            .sort()
            .map((topic) => ({ topic, partitions: undefined }))
        : topics;
      for (const { topic, partitions } of targets) {
        const planned =
          to === "current"
            ? await resetToCurrent(admin, groupId, topic, partitions, !execute)
            : await admin.resetOffsets({ groupId, topic, partitions, to, dryRun: !execute });
        for (const p of planned) rows.push([groupId, p]);
      }
    }
    write(context, `\n${formatPlan(rows)}`);
    if (!execute)
      context.io.stderr.write("Dry run: nothing was changed. Add --execute to apply these offsets.\n");
    return 0;
  },
};

/**
 * Kafka's --to-current: each partition stays at its committed offset, and one with nothing
 * committed gets its log end (what a group that starts reading now would be given).
 */
async function resetToCurrent(
  admin: Admin,
  groupId: string,
  topic: string,
  partitions: number[] | undefined,
  dryRun: boolean,
): Promise<PlannedOffset[]> {
  const all = partitions ?? (await admin.describeTopic(topic)).partitions.map((p) => p.partition);
  const committed = new Set(
    (await admin.fetchOffsets({ groupId, topics: [topic] }))
      .filter((o) => o.topic === topic)
      .map((o) => o.partition),
  );
  const kept = all.filter((p) => committed.has(p));
  const fresh = all.filter((p) => !committed.has(p));
  const planned: PlannedOffset[] = [];
  if (kept.length > 0)
    planned.push(
      ...(await admin.resetOffsets({ groupId, topic, partitions: kept, to: { shiftBy: 0 }, dryRun })),
    );
  if (fresh.length > 0)
    planned.push(...(await admin.resetOffsets({ groupId, topic, partitions: fresh, to: "latest", dryRun })));
  return planned.sort((a, b) => a.partition - b.partition);
}

function parseTopicPartitions(text: string): { topic: string; partitions?: number[] } {
  const colon = text.indexOf(":");
  if (colon === -1) return { topic: text };
  const list = text.slice(colon + 1).split(",");
  if (list.some((p) => !/^\d+$/.test(p))) {
    throw new UsageError(`--topic expects name or name:p,p…, got "${text}"`);
  }
  return { topic: text.slice(0, colon), partitions: list.map(Number) };
}

/**
 * Java's Duration.parse, which Kafka's --by-duration uses: PnDTnHnMn.nS (days, hours, minutes,
 * seconds; each optional, at least one). Undefined when `text` is not one.
 */
export function parseIsoDuration(text: string): number | undefined {
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d{1,3})?)S)?)?$/i.exec(text.trim());
  if (!m || m.slice(1).every((part) => part === undefined) || /T$/i.test(text.trim())) return undefined;
  const [days, hours, minutes, seconds] = m.slice(1).map((part) => Number(part ?? 0));
  return Math.round(((days * 24 + hours) * 60 + minutes) * 60_000 + seconds * 1000);
}

function resetTarget(
  context: CommandContext,
  target: (typeof TARGETS)[number],
): OffsetResetTarget | "current" {
  const { options } = context;
  switch (target) {
    case "to-earliest":
      return "earliest";
    case "to-latest":
      return "latest";
    case "to-current":
      return "current";
    case "to-offset":
      return { offset: options.integer("to-offset", 0)! };
    case "shift-by":
      return { shiftBy: options.integer("shift-by", Number.MIN_SAFE_INTEGER)! };
    case "by-duration": {
      const text = options.requiredString("by-duration");
      const ms = parseIsoDuration(text);
      if (ms === undefined) {
        throw new UsageError(
          `--by-duration must be an ISO-8601 duration such as PT10M, PT1H30M or P1DT12H, got "${text}"`,
        );
      }
      return { timestamp: Math.max(0, Date.now() - ms) };
    }
    case "to-datetime": {
      const text = options.requiredString("to-datetime");
      const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
      if (!Number.isSafeInteger(ms) || ms < 0) {
        throw new UsageError(
          `--to-datetime must be an ISO-8601 time such as 2024-05-01T12:00:00, got "${text}"`,
        );
      }
      return { timestamp: ms };
    }
  }
}

function formatPlan(rows: [string, PlannedOffset][]): string {
  return formatTable(
    ["GROUP", "TOPIC", "PARTITION", "NEW-OFFSET"],
    rows.map(([groupId, p]) => [groupId, p.topic, p.partition, p.offset]),
  );
}

/** Refusals about one group that should not stop the deletion of the others. */
const PER_GROUP_FAILURES = new Set(["GROUP_ID_NOT_FOUND", "NON_EMPTY_GROUP", "INVALID_GROUP_ID"]);

const remove: Command = {
  path: ["groups", "delete"],
  summary: "Delete consumer groups and their committed offsets",
  kafka: "kafka-consumer-groups.sh --delete",
  usage: "floe groups delete (--group <id> [--group <id>]... | --all-groups) [options]",
  connects: true,
  options: {
    group: { ...GROUP, repeatable: true, description: "a group to delete (repeatable)" },
    "all-groups": { kind: "flag", description: "delete every group with no active members" },
    ...KAFKA_ADMIN_OPTIONS,
  },
  notes: [
    "Only a group with no active members can be deleted. Each group that cannot be is named on stderr,",
    "the others are still deleted, and the exit code is 1.",
  ],
  async run(context) {
    const { options } = context;
    options.noPositionals();
    const named = options.list("group");
    if (named.length === 0 && !options.flag("all-groups"))
      throw new UsageError("--group or --all-groups is required");
    if (named.length > 0 && options.flag("all-groups"))
      throw new UsageError("give --group or --all-groups, not both");
    const admin = context.client({ retry: ADMIN_RETRY }).admin();
    const ids = options.flag("all-groups")
      ? (await admin.listGroups()).groups.map((g) => g.groupId).sort()
      : [...new Set(named)];
    const deleted: string[] = [];
    const failed: string[] = [];
    for (const id of ids) {
      try {
        await admin.deleteGroups([id]);
        deleted.push(id);
      } catch (error) {
        if (!(error instanceof FloeError) || !PER_GROUP_FAILURES.has(error.code)) throw error;
        failed.push(errorLine("groups delete", error));
      }
    }
    const quoted = deleted.map((id) => `'${id}'`).join(", ");
    if (failed.length === 0) {
      if (ids.length > 0)
        write(context, `Deletion of requested consumer groups (${quoted}) was successful.\n`);
      return 0;
    }
    if (deleted.length > 0) write(context, `These consumer groups were deleted successfully: ${quoted}\n`);
    context.io.stderr.write(`${failed.join("\n")}\n`);
    return 1;
  },
};

export const groupsCommands: Command[] = [list, describe, resetOffsets, remove];
