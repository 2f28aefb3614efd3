/**
 * Consumer-group heartbeat, offset commit and join cost against the group's size:
 * `npx tsx bench/group-heartbeat.ts [sizes]` (default `250,1000,3000`).
 *
 * In process, over the embedded (SQLite) store, one coordinator: the CPU this process spends (user +
 * system, so SQLite's work counts) per steady heartbeat, per offset commit by a member (one
 * partition it owns), per join, and for 16 members joining at once. Each group is seeded straight into the store already balanced (members 1..P own one
 * partition of a 1,000-partition topic each, in the item format every version reads), so building
 * a 3,000-member group does not itself take minutes; the first heartbeat then settles it (a newer
 * version may rewrite the meta item once), and a warm-up pass brings every sampled member to the
 * group's epoch before the timed pass. Prints the machine's load first: the figures are CPU time,
 * but a loaded machine still slows them.
 */
import { execFileSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Broker } from "../src/broker/broker.js";
import { GroupCoordinator } from "../src/groups/coordinator.js";
import { createBackend } from "../src/storage/backend.js";
import type { Doc, WriteOp } from "../src/storage/ports.js";

const SIZES = (process.argv[2] ?? "250,1000,3000").split(",").map(Number);
const PARTITIONS = 1_000;
/** Steady heartbeats timed per size (members sampled across the group). */
const SAMPLE = 300;
/** Offset commits timed per size, by members owning a partition (sampled across them). */
const COMMITS = 100;
const JOINS = 5;
const CONCURRENT_JOINS = 16;

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const memberId = (i: number) => `member-${String(i).padStart(5, "0")}`;

console.log(`uptime: ${execFileSync("uptime").toString().trim()}`);
console.log(`node ${process.version}; topic of ${PARTITIONS} partitions; embedded store\n`);

for (const size of SIZES) {
  const dataDir = await mkdtemp(path.join(tmpdir(), "floe-bench-hb-"));
  const backend = await createBackend({ storage: "embedded", dataDir });
  try {
    const broker = new Broker(backend);
    const topic = await broker.createTopic("events", PARTITIONS);
    const groupId = "bench";
    let now = Date.now();
    const coordinator = new GroupCoordinator({
      meta: backend.meta,
      broker,
      clock: () => now,
      // Nobody lapses while the bench runs, so every figure is the steady path.
      sessionTimeoutMs: 3_600_000,
    });

    // Seed: epoch 1, member i owns partition i (i < PARTITIONS), everyone stable.
    const pk = `group#${groupId}`;
    const assignmentOf = (i: number) => (i < PARTITIONS ? [{ topic: "events", partitions: [i] }] : []);
    const meta: Doc = {
      groupId,
      incarnation: "bench",
      createdAt: now,
      groupEpoch: 1,
      assignmentEpoch: 1,
      assignor: "uniform",
      topics: [{ name: "events", topicId: topic.topicId, partitions: PARTITIONS }],
      target: Array.from({ length: size }, (_, i) => ({
        memberId: memberId(i),
        assignment: assignmentOf(i),
      })),
    };
    const ops: WriteOp[] = [
      { type: "put", pk, sk: "meta", data: meta },
      { type: "put", pk: "groups", sk: groupId, data: { createdAt: now } },
    ];
    for (let i = 0; i < size; i++) {
      ops.push({
        type: "put",
        pk,
        sk: `member#${memberId(i)}`,
        data: {
          memberId: memberId(i),
          clientId: "bench",
          subscribedTopics: ["events"],
          subscribedTopicRegex: null,
          rebalanceTimeoutMs: 300_000,
          lastHeartbeatMs: now,
          memberEpoch: 1,
          previousMemberEpoch: 0,
          state: "stable",
          assigned: assignmentOf(i),
          revoking: [],
          revocationDeadline: null,
          grown: false,
        },
      });
    }
    for (let i = 0; i < ops.length; i += 100) await backend.meta.transact(ops.slice(i, i + 100));

    const epochs = new Map<string, number>();
    const sample = Array.from({ length: Math.min(SAMPLE, size) }, (_, k) =>
      memberId(Math.floor((k * size) / Math.min(SAMPLE, size))),
    );
    const beat = async (id: string) => {
      const i = Number(id.slice("member-".length));
      const res = await coordinator.heartbeat(groupId, {
        memberId: id,
        memberEpoch: epochs.get(id) ?? 1,
        ownedPartitions: assignmentOf(i),
      });
      epochs.set(id, res.memberEpoch);
    };

    // The first heartbeat settles the seeded group; the warm-up pass catches members up to its epoch.
    let start = cpuMs();
    await beat(sample[0]);
    const first = cpuMs() - start;
    now += 1_000;
    for (const id of sample) await beat(id);
    now += 1_000;
    start = cpuMs();
    for (const id of sample) await beat(id);
    const steady = (cpuMs() - start) / sample.length;

    // Members below PARTITIONS own partition i; each commits offset 0 of it at its current epoch.
    const owners = Math.min(size, PARTITIONS);
    const committers = Array.from({ length: Math.min(COMMITS, owners) }, (_, k) =>
      Math.floor((k * owners) / Math.min(COMMITS, owners)),
    );
    const commit = (i: number) =>
      coordinator.commitOffsets(groupId, {
        memberId: memberId(i),
        memberEpoch: epochs.get(memberId(i)) ?? 1,
        offsets: [{ topic: "events", partition: i, offset: 0 }],
      });
    await commit(committers[0]);
    start = cpuMs();
    for (const i of committers) await commit(i);
    const committed = (cpuMs() - start) / committers.length;

    const joins: number[] = [];
    for (let j = 0; j < JOINS; j++) {
      now += 100;
      start = cpuMs();
      await coordinator.heartbeat(groupId, { memberEpoch: 0, subscribedTopics: ["events"] });
      joins.push(cpuMs() - start);
    }

    now += 100;
    start = cpuMs();
    const wall = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENT_JOINS }, () =>
        coordinator.heartbeat(groupId, { memberEpoch: 0, subscribedTopics: ["events"] }),
      ),
    );
    const burstCpu = cpuMs() - start;
    const burstWall = performance.now() - wall;

    console.log(
      `${String(size).padStart(5)} members: steady heartbeat ${steady.toFixed(2).padStart(7)} ms CPU` +
        ` (mean of ${sample.length})  commit ${committed.toFixed(2).padStart(7)} ms CPU (mean of ${committers.length})  join ${median(joins).toFixed(1).padStart(7)} ms CPU (median of ${JOINS})` +
        `  ${CONCURRENT_JOINS} joins at once ${burstCpu.toFixed(0).padStart(6)} ms CPU, ${burstWall.toFixed(0)} ms wall` +
        `  (first heartbeat on the seeded group ${first.toFixed(1)} ms)`,
    );
  } finally {
    await backend.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}
