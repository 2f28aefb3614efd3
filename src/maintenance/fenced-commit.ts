import { backoffDelay, sleep } from "../broker/backoff.js";
import { fencedError, type Lease, type PartitionLeases } from "../broker/lease.js";
import { ConditionFailedError } from "../errors.js";
import type { MetaStore, WriteOp } from "../storage/ports.js";

/** Enough for the optimistic races maintenance meets; a partition that stays contended waits for the next run. */
const ATTEMPTS = 8;
const BACKOFF_BASE_MS = 5;
const BACKOFF_MAX_MS = 200;

/**
 * Commits `build()`'s ops in one transaction together with the lease's fence. A conflict on any
 * other item (the head moved by an append, a shared object's refs changed by another partition's
 * maintenance) rebuilds from fresh reads and retries; a lost lease throws FENCED_LEADER_EPOCH, and
 * then nothing was written. `build` answers null when the work no longer applies. Answers whether
 * the ops were committed.
 */
export async function commitUnderLease(
  meta: MetaStore,
  leases: PartitionLeases,
  lease: Lease,
  build: (attempt: number) => Promise<WriteOp[] | null>,
  random: () => number,
): Promise<boolean> {
  for (let attempt = 0; ; attempt++) {
    await leases.renewIfDue(lease);
    const ops = await build(attempt);
    if (ops === null) return false;
    try {
      await meta.transact([leases.fence(lease), ...ops]);
      return true;
    } catch (e) {
      if (!(e instanceof ConditionFailedError)) throw e;
      const fenced =
        e.failedIndexes.includes(0) || (e.failedIndexes.length === 0 && !(await leases.holds(lease)));
      if (fenced) throw fencedError(lease, e);
      if (attempt + 1 >= ATTEMPTS) throw e;
      await sleep(backoffDelay(attempt, BACKOFF_BASE_MS, BACKOFF_MAX_MS, random));
    }
  }
}
