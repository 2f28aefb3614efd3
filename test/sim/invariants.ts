/**
 * The end-of-run checks: read every partition back with a fault-free Broker and hold the log to
 * what every client was told. Violations found during the run (two owners, GC deleting an indexed
 * object, a healthy request refused) are recorded as they happen; these are the rest.
 */
import type { Broker } from "../../src/broker/broker.js";
import { keys } from "../../src/broker/keys.js";
import type { TopicSpec } from "./actors.js";
import type { Attempt, World } from "./world.js";

const dec = new TextDecoder();

interface Found {
  topic: string;
  topicId: string;
  partition: number;
  offset: number;
}

interface PartitionState {
  logStart: number;
  hwm: number;
}

export async function checkInvariants(world: World, broker: Broker, topics: TopicSpec[]): Promise<void> {
  const found = new Map<string, Found[]>();
  const partitions = new Map<string, PartitionState>();
  const live = new Map<string, string>();
  const retention = new Set(topics.filter((t) => t.retention).map((t) => t.name));

  for (const name of await broker.listTopics()) {
    const d = await broker.describeTopic(name);
    live.set(name, d.topicId);
    for (const p of d.partitions) {
      const where = `${name}#${p.partition}`;
      partitions.set(`${d.topicId}#${p.partition}`, { logStart: p.logStartOffset, hwm: p.highWatermark });
      await checkIndex(world, d.topicId, p.partition, where, p.logStartOffset, p.highWatermark);
      // Offsets contiguous from the log start to the high-water mark, each record once.
      let offset = p.logStartOffset;
      while (offset < p.highWatermark) {
        const r = await broker.fetch({ topic: name, partition: p.partition, offset, maxRecords: 500 });
        if (r.records.length === 0) {
          world.violation(
            "offsets-contiguous",
            `${where}: nothing readable at ${offset} below hwm ${p.highWatermark}`,
          );
          break;
        }
        for (const rec of r.records) {
          if (rec.offset !== offset) {
            world.violation("offsets-contiguous", `${where}: expected offset ${offset}, read ${rec.offset}`);
            offset = rec.offset;
          }
          const id = rec.value === null ? "<null>" : dec.decode(rec.value);
          let list = found.get(id);
          if (!list) found.set(id, (list = []));
          list.push({ topic: name, topicId: d.topicId, partition: p.partition, offset: rec.offset });
          offset++;
        }
      }
    }
  }

  // Every stored object the index names still exists.
  for (const [key, where] of world.indexedObjects()) {
    try {
      await world.objects.get(key, { start: 0, end: 1 });
    } catch {
      world.violation("gc-deletes-referenced-object", `${where} names ${key}, which is gone`);
    }
  }

  const known = new Set<string>();
  for (const a of world.attempts) {
    for (const id of a.ids) known.add(id);
    checkAttempt(world, a, found, partitions, live, retention);
  }
  checkIdempotent(world, found);
  for (const [id, list] of found) {
    if (!known.has(id)) {
      world.violation("phantom-record", `${id} at ${list.map(show).join(", ")} was never produced`);
    }
  }
  checkOrder(world, found, live);
}

/** The `seg#` items tile [logStart, hwm) (a merged or retained prefix may start below logStart). */
async function checkIndex(
  world: World,
  topicId: string,
  partition: number,
  where: string,
  logStart: number,
  hwm: number,
): Promise<void> {
  const items = await world.meta.query(keys.partition(topicId, partition), { prefix: keys.segmentPrefix });
  let end: number | null = null;
  for (const item of items) {
    const base = Number(item.data.base);
    const itemEnd = Number(item.data.end);
    if (end !== null && base !== end) {
      world.violation(
        "offsets-contiguous",
        `${where}: index gap or overlap, a segment ends at ${end}, the next starts at ${base}`,
      );
    }
    if (itemEnd - base !== Number(item.data.count)) {
      world.violation(
        "offsets-contiguous",
        `${where}: segment [${base}, ${itemEnd}) counts ${item.data.count}`,
      );
    }
    end = itemEnd;
  }
  const first = items.length > 0 ? Number(items[0].data.base) : hwm;
  if (first > logStart)
    world.violation("offsets-contiguous", `${where}: log starts at ${logStart}, index at ${first}`);
  if ((end ?? hwm) !== hwm)
    world.violation("offsets-contiguous", `${where}: index ends at ${end}, hwm is ${hwm}`);
}

function show(f: Found): string {
  return `${f.topic}#${f.partition}@${f.offset}`;
}

function checkAttempt(
  world: World,
  a: Attempt,
  found: Map<string, Found[]>,
  partitions: Map<string, PartitionState>,
  live: Map<string, string>,
  retention: Set<string>,
): void {
  const label = `${a.producer}/${a.request}/${a.attempt} (${a.kind}, ${a.outcome}${a.code ? ` ${a.code}` : ""}, via ${a.process} at ${a.sentAt}..${a.answeredAt})`;
  // Its topic was deleted (and maybe re-created) since: its records went with the old incarnation.
  const sameTopic = a.topicId !== null && live.get(a.topic) === a.topicId;
  const gone = (partition: number, offset: number) =>
    offset < (partitions.get(`${a.topicId}#${partition}`)?.logStart ?? 0);

  if (a.kind === "plain") {
    // Each plain attempt's records carry ids of their own: at most once, and never for an attempt
    // that was refused, timed out by the broker, or never reached a process.
    const allowed = a.outcome === "acked" || a.outcome === "unknown" ? 1 : 0;
    for (const id of a.ids) {
      const at = found.get(id) ?? [];
      if (at.length > allowed) {
        world.violation(
          allowed === 0 ? "refused-appends-nothing" : "no-duplicate-append",
          `${label}: ${id} found at ${at.map(show).join(", ")}`,
        );
      }
    }
  }

  if (a.outcome === "acked" && a.offsets) {
    if (!sameTopic) return;
    a.ids.forEach((id, i) => {
      const want = a.offsets![i];
      if (!want) {
        world.violation("acked-record-present", `${label}: no offset answered for record ${i}`);
        return;
      }
      if (gone(want.partition, want.offset)) return;
      const at = found.get(id) ?? [];
      if (
        !at.some((f) => f.topic === a.topic && f.partition === want.partition && f.offset === want.offset)
      ) {
        world.violation(
          "acked-record-present",
          `${label}: ${id} acked at ${a.topic}#${want.partition}@${want.offset}, found ${at.length === 0 ? "nowhere" : at.map(show).join(", ")}`,
        );
      }
    });
  }

  // Decision 0008: once the caller has gone (its connection closed), the append must not commit.
  if (a.kind === "plain" && a.abortedAt !== undefined) {
    for (const id of a.ids) {
      if ((found.get(id) ?? []).length === 0) continue;
      const key = world.objectOf.get(id);
      const sent = key === undefined ? undefined : world.indexedAt.get(key);
      if (sent !== undefined && sent > a.abortedAt) {
        world.violation(
          "no-commit-after-caller-left",
          `${label}: ${id} committed by a transaction sent at ${sent}, after the client gave up at ${a.abortedAt}`,
        );
        break;
      }
    }
  }

  // One request is one transaction: all of an unknown attempt's records landed, or none did.
  if (a.kind === "plain" && a.outcome === "unknown" && sameTopic && !retention.has(a.topic)) {
    const present = a.ids.filter((id) => (found.get(id) ?? []).length > 0).length;
    if (present !== 0 && present !== a.ids.length) {
      world.violation("request-atomic", `${label}: ${present} of ${a.ids.length} records landed`);
    }
  }
}

/**
 * Per producer and partition, records sit in the order they were produced: for plain producers
 * (one request in flight) among acknowledged records, for idempotent ones among all records.
 */
function checkOrder(world: World, found: Map<string, Found[]>, live: Map<string, string>): void {
  // Rank: [burst, request, record index]; only acked plain records and all idempotent ones count.
  const ranks = new Map<string, [number, number, number]>();
  for (const a of world.attempts) {
    if (a.kind === "plain" && a.outcome !== "acked") continue;
    a.ids.forEach((id, i) => {
      ranks.set(id, [a.burst, a.request, i]);
    });
  }
  const runs = new Map<string, { offset: number; rank: [number, number, number]; id: string }[]>();
  for (const [id, list] of found) {
    const rank = ranks.get(id);
    if (!rank) continue;
    const producer = id.slice(0, id.indexOf("/"));
    for (const f of list) {
      if (live.get(f.topic) !== f.topicId) continue;
      const k = `${producer} ${f.topic}#${f.partition}`;
      let run = runs.get(k);
      if (!run) runs.set(k, (run = []));
      run.push({ offset: f.offset, rank, id });
    }
  }
  for (const [k, run] of runs) {
    run.sort((x, y) => x.offset - y.offset);
    for (let i = 1; i < run.length; i++) {
      const [a, b] = [run[i - 1], run[i]];
      const [x, y] = [a.rank, b.rank];
      const sameRequest = x[1] === y[1];
      if (x[0] > y[0] || (sameRequest && x[2] >= y[2])) {
        world.violation("per-producer-order", `${k}: ${a.id}@${a.offset} before ${b.id}@${b.offset}`);
      }
    }
  }
}

/**
 * An idempotent request's attempts share their records' ids: each id at most once in the log, and
 * absent when no attempt could have landed (every one refused, timed out by the broker or unsent).
 */
function checkIdempotent(world: World, found: Map<string, Found[]>): void {
  const requests = new Map<string, Attempt[]>();
  for (const a of world.attempts) {
    if (a.kind !== "idempotent") continue;
    const k = `${a.producer}/${a.request}`;
    requests.set(k, [...(requests.get(k) ?? []), a]);
  }
  for (const [k, attempts] of requests) {
    const mayHaveLanded = attempts.some((a) => a.outcome === "acked" || a.outcome === "unknown");
    const outcomes = attempts.map((a) => `${a.outcome}${a.code ? ` ${a.code}` : ""}`).join(", ");
    for (const id of attempts[0].ids) {
      const at = found.get(id) ?? [];
      if (at.length > 1) {
        world.violation(
          "idempotent-no-duplicates",
          `${k} [${outcomes}]: ${id} found at ${at.map(show).join(", ")}`,
        );
      } else if (at.length === 1 && !mayHaveLanded) {
        world.violation("refused-appends-nothing", `${k} [${outcomes}]: ${id} found at ${show(at[0])}`);
      }
    }
  }
}
