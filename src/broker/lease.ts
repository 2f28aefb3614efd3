import { ConditionFailedError, FloeError } from "../errors.js";
import type { Doc, Item, MetaStore, WriteOp } from "../storage/ports.js";
import { keys } from "./keys.js";

/**
 * Partition leases (architecture §5): one actor at a time per partition for work that must not be done
 * twice at once (compaction, retention, reclaiming a deleted topic).
 *
 * The lease is its own item beside the head (`part#{topicId}#{p}` / `lease`), not fields on the
 * head: every append rewrites the head conditionally, so a lease on the head would make each
 * maintenance commit race every append, and each renewal would fail appends (decision 0004).
 *
 * Fencing: the item's version grows on every acquire, renew and release, and the item is never
 * deleted while its partition lives, so "version as I last wrote it" holds only while nobody else
 * has touched the lease. Every write made under a lease carries `fence(lease)`, a check of that
 * version in the same transaction; a holder that was paused while another took the lease fails the
 * check and writes nothing. That is strictly stronger than comparing epochs, which only grow on
 * acquire. Like KCL's lease table, the item also carries the holder's checkpoint, so the next
 * holder resumes where the last one stopped.
 */

export function leaseKey(topicId: string, partition: number): { pk: string; sk: string } {
  return { pk: keys.partition(topicId, partition), sk: "lease" };
}

/** What the lease item says, whoever holds it. */
export interface LeaseState {
  /** Null when released or never taken. */
  owner: string | null;
  /** Milliseconds since the epoch; the lease is free at or after this instant. */
  expiry: number;
  /** Kafka's leader epoch: grows by one on every acquisition. 0 before the first. */
  epoch: number;
  /** What the last holder left for the next one. */
  checkpoint: Doc | null;
  /** MetaStore version; 0 when the item does not exist. */
  version: number;
}

/** A holder's handle on a lease. `renew` updates it in place: always use the latest. */
export interface Lease {
  readonly topicId: string;
  readonly partition: number;
  readonly owner: string;
  readonly epoch: number;
  expiry: number;
  version: number;
  checkpoint: Doc | null;
}

export interface PartitionLeasesOptions {
  clock: () => number;
  /** How long an acquisition or renewal lasts. */
  durationMs: number;
}

export function leaseFromItem(item: Item | undefined): LeaseState {
  if (!item) return { owner: null, expiry: 0, epoch: 0, checkpoint: null, version: 0 };
  const d = item.data;
  return {
    owner: typeof d.owner === "string" ? d.owner : null,
    expiry: Number(d.expiry ?? 0),
    epoch: Number(d.epoch ?? 0),
    checkpoint: d.checkpoint && typeof d.checkpoint === "object" ? (d.checkpoint as Doc) : null,
    version: item.version,
  };
}

/** The holder a describe should show: nobody once the lease has lapsed. */
export function currentHolder(state: LeaseState, now: number): string | null {
  return state.owner !== null && state.expiry > now ? state.owner : null;
}

export function fencedError(lease: Lease, cause?: unknown): FloeError {
  return new FloeError(
    "FENCED_LEADER_EPOCH",
    `Lease on partition ${lease.topicId}#${lease.partition} (epoch ${lease.epoch}) was taken over; the write was refused.`,
    { retriable: false, fault: "server", cause },
  );
}

export class PartitionLeases {
  constructor(
    private readonly meta: MetaStore,
    private readonly options: PartitionLeasesOptions,
  ) {}

  get durationMs(): number {
    return this.options.durationMs;
  }

  async read(topicId: string, partition: number): Promise<LeaseState> {
    const k = leaseKey(topicId, partition);
    return leaseFromItem(await this.meta.get(k.pk, k.sk));
  }

  /**
   * Takes the lease if it is free (never taken, released, or expired), bumping the epoch. Answers
   * null when someone else holds it, including when another acquirer wins the race for it.
   */
  async acquire(topicId: string, partition: number, owner: string): Promise<Lease | null> {
    const state = await this.read(topicId, partition);
    const now = this.options.clock();
    if (currentHolder(state, now) !== null) return null;
    const lease: Lease = {
      topicId,
      partition,
      owner,
      epoch: state.epoch + 1,
      expiry: now + this.options.durationMs,
      version: state.version + 1,
      checkpoint: state.checkpoint,
    };
    try {
      await this.meta.transact([
        {
          type: "put",
          ...leaseKey(topicId, partition),
          data: toDoc(lease.owner, lease),
          condition: state.version === 0 ? { absent: true } : { version: state.version },
        },
      ]);
    } catch (e) {
      if (e instanceof ConditionFailedError) return null;
      throw e;
    }
    return lease;
  }

  /** Extends the lease; throws FENCED_LEADER_EPOCH if anyone else has written it since. */
  async renew(lease: Lease): Promise<void> {
    const expiry = this.options.clock() + this.options.durationMs;
    await this.write(lease, { ...lease, expiry }, true);
    lease.expiry = expiry;
  }

  /** Renews when less than half the lease is left, so a step started now ends well inside it. */
  async renewIfDue(lease: Lease): Promise<void> {
    if (lease.expiry - this.options.clock() < this.options.durationMs / 2) await this.renew(lease);
  }

  /** Stores the holder's checkpoint under the lease (fenced like any other write). */
  async checkpoint(lease: Lease, checkpoint: Doc): Promise<void> {
    await this.write(lease, { ...lease, checkpoint }, true);
    lease.checkpoint = checkpoint;
  }

  /**
   * Frees the lease at once (the epoch stays, so the next holder's is higher), leaving `checkpoint`
   * for the next holder. Answers false when the lease had already been taken over.
   */
  async release(lease: Lease, checkpoint: Doc | null = lease.checkpoint): Promise<boolean> {
    try {
      await this.write(lease, { ...lease, expiry: 0, checkpoint }, false);
      return true;
    } catch (e) {
      if (e instanceof FloeError && e.code === "FENCED_LEADER_EPOCH") return false;
      throw e;
    }
  }

  /** The condition every write under this lease carries in its transaction. */
  fence(lease: Lease): WriteOp {
    return {
      type: "check",
      ...leaseKey(lease.topicId, lease.partition),
      condition: { version: lease.version },
    };
  }

  /** Whether the lease item is still exactly as this holder last wrote it. */
  async holds(lease: Lease): Promise<boolean> {
    return (await this.read(lease.topicId, lease.partition)).version === lease.version;
  }

  private async write(
    lease: Lease,
    next: Pick<Lease, "expiry" | "epoch" | "checkpoint">,
    held: boolean,
  ): Promise<void> {
    try {
      await this.meta.transact([
        {
          type: "put",
          ...leaseKey(lease.topicId, lease.partition),
          data: toDoc(held ? lease.owner : null, next),
          condition: { version: lease.version },
        },
      ]);
    } catch (e) {
      if (e instanceof ConditionFailedError) throw fencedError(lease, e);
      throw e;
    }
    lease.version++;
  }
}

function toDoc(owner: string | null, lease: Pick<Lease, "expiry" | "epoch" | "checkpoint">): Doc {
  return { owner, expiry: lease.expiry, epoch: lease.epoch, checkpoint: lease.checkpoint };
}
