import type { Doc, MetaStore } from "../storage/ports.js";
import type { CycleSummary, CycleTotals } from "./report.js";

/** The one item maintenance keeps for itself. Not part of architecture §2's schema: nothing else reads it. */
export const CURSOR_KEY = { pk: "maintenance", sk: "cursor" } as const;

export type Phase = "deleted-topics" | "producers" | "partitions" | "gc";

/**
 * Where the pass stands, so a slice (one Lambda invocation) resumes where the last one stopped.
 * It is a hint, written without a condition: two workers overwriting each other's cursor redo or
 * skip a little work until the next pass; every step is safe to repeat and to race.
 */
export interface MaintenanceCursor {
  phase: Phase;
  /** deleted-topics: the last topicId passed over (leased elsewhere). */
  deletedAfter: string | null;
  /** producers: the last producer directory entry visited. */
  producerAfter: string | null;
  /** partitions: the next topic (by name) and partition to visit. */
  topic: string | null;
  partition: number;
  /** gc: the last object key listed. */
  gcAfter: string | null;
  totals: CycleTotals;
  lastCycle: CycleSummary | null;
}

export function freshCursor(now: number, lastCycle: CycleSummary | null = null): MaintenanceCursor {
  return {
    phase: "deleted-topics",
    deletedAfter: null,
    producerAfter: null,
    topic: null,
    partition: 0,
    gcAfter: null,
    totals: { startedAt: now, partitions: 0, segments: 0, objects: 0, bytes: 0 },
    lastCycle,
  };
}

export async function loadCursor(meta: MetaStore, now: number): Promise<MaintenanceCursor> {
  const item = await meta.get(CURSOR_KEY.pk, CURSOR_KEY.sk);
  if (!item) return freshCursor(now);
  const d = item.data as unknown as Partial<MaintenanceCursor>;
  const fresh = freshCursor(now, d.lastCycle ?? null);
  const phase: Phase[] = ["deleted-topics", "producers", "partitions", "gc"];
  if (!d.phase || !phase.includes(d.phase) || !d.totals) return fresh;
  return {
    phase: d.phase,
    deletedAfter: d.deletedAfter ?? null,
    producerAfter: d.producerAfter ?? null,
    topic: d.topic ?? null,
    partition: Number(d.partition ?? 0),
    gcAfter: d.gcAfter ?? null,
    totals: { ...fresh.totals, ...d.totals },
    lastCycle: d.lastCycle ?? null,
  };
}

export async function saveCursor(meta: MetaStore, cursor: MaintenanceCursor): Promise<void> {
  await meta.transact([{ type: "put", ...CURSOR_KEY, data: cursor as unknown as Doc }]);
}
