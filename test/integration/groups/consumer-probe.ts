/**
 * What the Consumer tests watch: every record handed to an application (by which member), every
 * change of ownership as the rebalance listener saw it, and the HTTP requests each member sent.
 */
import { expect } from "vitest";
import type { Consumer } from "../../../src/client/consumer.js";
import type { ConsumerConfig, EachMessagePayload } from "../../../src/client/consumer-types.js";
import { Floe } from "../../../src/client/floe.js";

export interface Delivery {
  /** Order among everything the probe saw (deliveries and requests). */
  seq: number;
  member: string;
  partition: number;
  offset: number;
  key: string;
  /** The record's number within its key, as produced. */
  keySeq: number;
}

/** A coordinator request as the member sent it. */
export type SentRequest =
  | { seq: number; member: string; kind: "heartbeat"; owned: number[] }
  | { seq: number; member: string; kind: "commit"; offsets: { partition: number; offset: number }[] };

export interface OwnershipChange {
  member: string;
  kind: "assigned" | "revoked" | "lost";
  partitions: number[];
}

export class GroupProbe {
  readonly deliveries: Delivery[] = [];
  readonly timeline: OwnershipChange[] = [];
  readonly requests: SentRequest[] = [];
  private seq = 0;
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
        this.recordRequest(member, input, init);
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
      this.deliveries.push({
        seq: this.seq++,
        member,
        partition,
        offset: message.offset,
        key,
        keySeq: Number(seq),
      });
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
      expect(d.keySeq, `key ${d.key}`).toBeGreaterThan(last.get(d.key) ?? -1);
      last.set(d.key, d.keySeq);
    }
  }

  /**
   * Decision 0005's client contract, checked on what went over the wire: when a heartbeat stops
   * listing a partition the member had handled records of, the member's last commit of it, sent
   * before that heartbeat, is exactly its position (the last handled offset + 1).
   */
  expectCommittedBeforeRelease(): number {
    let releases = 0;
    for (const member of new Set(this.requests.map((r) => r.member))) {
      const sent = this.requests.filter((r) => r.member === member);
      let owned: number[] = [];
      for (const request of sent) {
        if (request.kind !== "heartbeat") continue;
        for (const p of owned.filter((q) => !request.owned.includes(q))) {
          const handled = this.deliveries.filter(
            (d) => d.member === member && d.partition === p && d.seq < request.seq,
          );
          if (handled.length === 0) continue;
          const position = Math.max(...handled.map((d) => d.offset)) + 1;
          const commits = sent.filter(
            (r): r is Extract<SentRequest, { kind: "commit" }> =>
              r.kind === "commit" && r.seq < request.seq && r.offsets.some((o) => o.partition === p),
          );
          const last = commits.at(-1)?.offsets.find((o) => o.partition === p)?.offset;
          expect(last, `${member} released partition ${p} before committing ${position}`).toBe(position);
          releases++;
        }
        owned = request.owned;
      }
    }
    return releases;
  }

  private recordRequest(member: string, url: string, init: RequestInit): void {
    if (init.method !== "POST" || typeof init.body !== "string") return;
    const body = JSON.parse(init.body);
    if (url.endsWith("/heartbeat")) {
      const owned =
        body.memberEpoch === -1
          ? []
          : (body.ownedPartitions ?? []).flatMap((a: { partitions: number[] }) => a.partitions);
      this.requests.push({ seq: this.seq++, member, kind: "heartbeat", owned });
    } else if (/\/v1\/groups\/[^/]+\/offsets$/.test(url)) {
      this.requests.push({ seq: this.seq++, member, kind: "commit", offsets: body.offsets });
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
