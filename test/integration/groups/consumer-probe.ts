/**
 * What the Consumer tests watch: every record handed to an application (by which member), every
 * change of ownership as the rebalance listener saw it, and the HTTP requests each member sent.
 */
import { expect } from "vitest";
import type { Consumer } from "../../../src/client/consumer.js";
import type { ConsumerConfig, EachMessagePayload } from "../../../src/client/consumer-types.js";
import { Floe } from "../../../src/client/floe.js";

export interface Delivery {
  member: string;
  partition: number;
  offset: number;
  key: string;
  seq: number;
}

export interface OwnershipChange {
  member: string;
  kind: "assigned" | "revoked" | "lost";
  partitions: number[];
}

export class GroupProbe {
  readonly deliveries: Delivery[] = [];
  readonly timeline: OwnershipChange[] = [];
  /** The most heartbeats one member ever had in flight at once. */
  readonly maxHeartbeatsInFlight = new Map<string, number>();
  /** Members whose requests fail as if the network were cut. */
  readonly cutOff = new Set<string>();

  constructor(private readonly url: string) {}

  /** A consumer on its own client, so its requests can be watched (and cut) separately. */
  consumer(member: string, config: Omit<ConsumerConfig, "rebalanceListener">): Consumer {
    let inFlight = 0;
    const floe = new Floe({
      url: this.url,
      fetch: async (input, init) => {
        if (this.cutOff.has(member)) {
          const cause = Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
          throw new TypeError("fetch failed", { cause });
        }
        const heartbeat = input.endsWith("/heartbeat");
        if (heartbeat) {
          inFlight++;
          this.maxHeartbeatsInFlight.set(
            member,
            Math.max(inFlight, this.maxHeartbeatsInFlight.get(member) ?? 0),
          );
        }
        try {
          return await fetch(input, init);
        } finally {
          if (heartbeat) inFlight--;
        }
      },
    });
    const record = (kind: OwnershipChange["kind"]) => (assignment: { partitions: number[] }[]) => {
      this.timeline.push({ member, kind, partitions: assignment.flatMap((a) => a.partitions) });
    };
    return floe.consumer({
      heartbeatInterval: 50,
      maxWaitTimeInMs: 500,
      ...config,
      rebalanceListener: {
        onPartitionsAssigned: record("assigned"),
        onPartitionsRevoked: record("revoked"),
        onPartitionsLost: record("lost"),
      },
    });
  }

  handler(member: string): (payload: EachMessagePayload) => Promise<void> {
    return async ({ partition, message }) => {
      const [key, seq] = message.value!.toString().split(":");
      this.deliveries.push({ member, partition, offset: message.offset, key, seq: Number(seq) });
    };
  }

  /** Replays the rebalance listener's calls: a partition is never assigned while another member holds it. */
  expectNeverTwoOwners(): void {
    const owner = new Map<number, string>();
    for (const change of this.timeline) {
      for (const p of change.partitions) {
        if (change.kind === "assigned") {
          expect(
            owner.get(p),
            `partition ${p} assigned to ${change.member} while ${owner.get(p)} held it`,
          ).toBe(undefined);
          owner.set(p, change.member);
        } else {
          expect(owner.get(p), `partition ${p} released by ${change.member}`).toBe(change.member);
          owner.delete(p);
        }
      }
    }
  }

  /** Within each key, records arrived in the order they were produced. */
  expectPerKeyOrder(): void {
    const last = new Map<string, number>();
    for (const d of this.deliveries) {
      expect(d.seq, `key ${d.key}`).toBeGreaterThan(last.get(d.key) ?? -1);
      last.set(d.key, d.seq);
    }
  }

  /** How many times each `partition:offset` was delivered. */
  deliveryCounts(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const d of this.deliveries) {
      const id = `${d.partition}:${d.offset}`;
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    return counts;
  }
}

/** Produces `count` records over `keys` keys, valued `key:seq` with seq counting per key from `from`. */
export class KeyedSource {
  private readonly next = new Map<string, number>();
  produced = 0;

  constructor(
    private readonly floe: Floe,
    private readonly topic: string,
    private readonly keys = 24,
  ) {}

  async produce(count: number): Promise<void> {
    const messages = Array.from({ length: count }, (_, i) => {
      const key = `k${(this.produced + i) % this.keys}`;
      const seq = this.next.get(key) ?? 0;
      this.next.set(key, seq + 1);
      return { key, value: `${key}:${seq}` };
    });
    await this.floe.producer().send({ topic: this.topic, messages });
    this.produced += count;
  }
}

/** Waits for a condition the test needs before it can assert; the bound only keeps a bug from hanging the run. */
export async function until(
  condition: () => boolean | Promise<boolean>,
  what: string,
  boundMs = 45_000,
): Promise<void> {
  const giveUp = Date.now() + boundMs;
  while (!(await condition())) {
    if (Date.now() > giveUp) throw new Error(`gave up waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export const partitionCount = (c: Consumer) => c.assignment().reduce((n, a) => n + a.partitions.length, 0);
