import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Broker } from "../../../src/broker/broker.js";
import { FloeError } from "../../../src/errors.js";
import { GroupCoordinator } from "../../../src/groups/coordinator.js";
import { memberFromItem } from "../../../src/groups/group-records.js";
import { groupKeys, MEMBER_PREFIX } from "../../../src/groups/keys.js";
import type { HeartbeatResponse } from "../../../src/groups/types.js";
import { createBackend } from "../../../src/storage/backend.js";

/**
 * Decision 0012's acquisition rule under concurrency: a member takes a partition after reading only
 * the members the meta item names as possible holders, conditional on the meta version alone. Here
 * several coordinators (each with its own decoded-meta cache and sweep schedule, as separate Lambda
 * instances would have) serve joins, heartbeats and leaves of one group at the same time, and after
 * every round the stored member items must list each partition at most once (assigned or being
 * revoked), which is decision 0005's invariant. The clock stands still: nothing expires.
 */

const TOPIC = "t";
const PARTITIONS = 6;
const RUNS = Number(process.env.FLOE_PROPERTY_RUNS ?? 40);

interface Client {
  memberId?: string;
  epoch: number;
  owned: HeartbeatResponse["assignment"];
}

type Step = { m: number; via: number; leave: boolean };

const round = fc.array(fc.record({ m: fc.nat(4), via: fc.nat(2), leave: fc.boolean() }), {
  minLength: 1,
  maxLength: 5,
});

describe("ownership with concurrent heartbeats through several coordinators", () => {
  it("no partition is ever listed by two member items", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(round, { minLength: 3, maxLength: 12 }), async (rounds) => {
        const backend = await createBackend({ storage: "memory" });
        const broker = new Broker(backend);
        await broker.createTopic(TOPIC, PARTITIONS);
        const coordinators = Array.from(
          { length: 3 },
          () => new GroupCoordinator({ meta: backend.meta, broker, clock: () => 0 }),
        );
        const clients: Client[] = Array.from({ length: 5 }, () => ({ epoch: 0, owned: [] }));
        const act = async ({ m, via, leave }: Step) => {
          const client = clients[m];
          const c = coordinators[via];
          try {
            if (leave && client.memberId) {
              await c.heartbeat("g", { memberId: client.memberId, memberEpoch: -1 });
              clients[m] = { epoch: 0, owned: [] };
              return;
            }
            const r = await c.heartbeat("g", {
              ...(client.memberId ? { memberId: client.memberId } : { subscribedTopics: [TOPIC] }),
              memberEpoch: client.epoch,
              ownedPartitions: client.owned,
            });
            client.memberId = r.memberId;
            client.epoch = r.memberEpoch;
            client.owned = r.assignment;
          } catch (e) {
            if (!(e instanceof FloeError)) throw e;
            // Fenced or unknown (a concurrent leave of the same client): start over, as a client would.
            clients[m] = { epoch: 0, owned: [] };
          }
        };
        try {
          for (const steps of rounds) {
            // One step per client per round, so a client's heartbeats stay sequential.
            const seen = new Set<number>();
            await Promise.all(steps.filter((s) => !seen.has(s.m) && seen.add(s.m)).map(act));
            const items = await backend.meta.query(groupKeys.group("g"), { prefix: MEMBER_PREFIX });
            const holder = new Map<string, string>();
            for (const m of items.map(memberFromItem)) {
              for (const p of [...m.assigned, ...m.revoking]) {
                expect(holder.get(p), `${p} held by ${holder.get(p)} and ${m.memberId}`).toBeUndefined();
                holder.set(p, m.memberId);
              }
            }
          }
        } finally {
          await backend.close();
        }
      }),
      { numRuns: RUNS },
    );
  }, 120_000);
});
