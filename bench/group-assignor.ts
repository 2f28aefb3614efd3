/**
 * Consumer-group assignment and regex-subscription cost: `npx tsx bench/group-assignor.ts [runs, default 3]`.
 *
 * Pure CPU, in process, no server: the uniform assignor when a second member joins one topic of
 * 2,000 and 10,000 partitions (10,000 is the most a topic may have), when member 3,000 joins a
 * 10,000-partition topic balanced over 2,999, and a fresh 3,000-member assignment of it; the range
 * assignor on the last two; and the regex resolution one heartbeat does for a 3,000-member group
 * whose members all subscribe by regex, against 1,000 topics on an in-memory broker (cold: first
 * heartbeat after a change of the topic list; warm: every later one). Prints the median of `runs`
 * runs (one run for a case whose first run takes over 10 s) and the machine's load.
 */
import { execFileSync } from "node:child_process";
import { Broker } from "../src/broker/broker.js";
import type { AssignmentSpec, TargetAssignment } from "../src/groups/assignor.js";
import { rangeAssignor } from "../src/groups/range-assignor.js";
import { resolveSubscriptions, type Subscriber } from "../src/groups/subscription.js";
import { uniformAssignor } from "../src/groups/uniform-assignor.js";
import { createBackend } from "../src/storage/backend.js";

const RUNS = Number(process.argv[2] ?? 3);
const SLOW_MS = 10_000;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function time(
  name: string,
  op: () => unknown | Promise<unknown>,
  setup?: () => Promise<unknown>,
): Promise<void> {
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    await setup?.();
    const start = performance.now();
    await op();
    samples.push(performance.now() - start);
    if (samples[0] > SLOW_MS) break;
  }
  const shown = samples.map((s) => s.toFixed(1)).join(", ");
  console.log(`${name.padEnd(64)} median ${median(samples).toFixed(1).padStart(9)} ms   runs [${shown}]`);
}

function homogeneous(count: number, topic: string): AssignmentSpec["members"] {
  return Array.from({ length: count }, (_, i) => ({
    memberId: `member-${String(i).padStart(5, "0")}`,
    topics: [topic],
  }));
}

function spec(members: number, partitions: number, previous: TargetAssignment): AssignmentSpec {
  return {
    members: homogeneous(members, "t"),
    partitionCounts: new Map([["t", partitions]]),
    previous,
  };
}

console.log(`uptime: ${execFileSync("uptime").toString().trim()}`);
console.log(`node ${process.version}, ${RUNS} runs per case\n`);

for (const partitions of [2_000, 10_000]) {
  const first = uniformAssignor.assign(spec(1, partitions, new Map()));
  await time(`uniform: 2nd member joins 1 topic of ${partitions} partitions`, () =>
    uniformAssignor.assign(spec(2, partitions, first)),
  );
}
{
  const fresh = spec(3_000, 10_000, new Map());
  await time("uniform: 3,000 members, 10,000 partitions, no previous", () => uniformAssignor.assign(fresh));
  const before = uniformAssignor.assign(spec(2_999, 10_000, new Map()));
  await time("uniform: member 3,000 joins 2,999 on 10,000 partitions", () =>
    uniformAssignor.assign(spec(3_000, 10_000, before)),
  );
  // Differing subscriptions: each member on 10 of 100 topics of 100 partitions (a fixed pseudo-random pick).
  let seed = 1;
  const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
  const topics = Array.from({ length: 100 }, (_, t) => `topic-${t}`);
  const mixed: AssignmentSpec = {
    members: Array.from({ length: 3_000 }, (_, i) => ({
      memberId: `member-${i}`,
      topics: Array.from({ length: 10 }, () => topics[Math.floor(random() * topics.length)]),
    })),
    partitionCounts: new Map(topics.map((t) => [t, 100])),
    previous: new Map(),
  };
  const mixedBefore = uniformAssignor.assign({ ...mixed, members: mixed.members.slice(1) });
  await time("uniform: member 3,000 joins, 3,000 distinct subscriptions of 100x100", () =>
    uniformAssignor.assign({ ...mixed, previous: mixedBefore }),
  );
  await time("range: 2nd member joins 1 topic of 10,000 partitions", () =>
    rangeAssignor.assign(spec(2, 10_000, new Map())),
  );
  await time("range: 3,000 members, 10,000 partitions", () => rangeAssignor.assign(fresh));
}

// Regex subscriptions: 1,000 topics, 3,000 members.
const backend = await createBackend({ storage: "memory" });
const broker = new Broker(backend);
const TOPICS = 1_000;
for (let i = 0; i < TOPICS; i++) await broker.createTopic(`svc-${i % 10}.events-${i}`, 1);
let created = 0;

const sameRegex: Subscriber[] = Array.from({ length: 3_000 }, (_, i) => ({
  memberId: `m${i}`,
  subscribedTopics: [],
  subscribedTopicRegex: "svc-3\\..*",
}));
const distinctRegexes: Subscriber[] = Array.from({ length: 3_000 }, (_, i) => ({
  memberId: `m${i}`,
  subscribedTopics: [],
  subscribedTopicRegex: `svc-${i % 10}\\.events-[0-9]*|member-${i}`,
}));
for (const [label, members] of [
  ["one shared regex", sameRegex],
  ["3,000 distinct regexes", distinctRegexes],
] as const) {
  // Cold: a topic created since the last heartbeat changes the list, so nothing cached applies.
  await time(
    `regex: 3,000 members, ${label}, 1,000 topics, cold`,
    () => resolveSubscriptions(broker, members),
    () => broker.createTopic(`other-${++created}`, 1),
  );
  await resolveSubscriptions(broker, members);
  await time(`regex: 3,000 members, ${label}, 1,000 topics, warm`, () =>
    resolveSubscriptions(broker, members),
  );
}

// The reproduction of issue 11: exponential for a backtracking engine, linear for RE2.
await broker.createTopic("aaaaaaaaaaaaaaaaaaaaaaaaa-", 1);
await time(
  "regex: (a+)+$ against topic aaaaaaaaaaaaaaaaaaaaaaaaa- (cold)",
  () =>
    resolveSubscriptions(broker, [{ memberId: "m", subscribedTopics: [], subscribedTopicRegex: "(a+)+$" }]),
  () => broker.createTopic(`other-${++created}`, 1),
);
await backend.close();
