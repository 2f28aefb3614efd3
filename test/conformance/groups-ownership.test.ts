import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Broker } from "../../src/broker/broker.js";
import { FloeError } from "../../src/errors.js";
import { GroupCoordinator } from "../../src/groups/coordinator.js";
import { toPartitionSet, toTopicPartitions } from "../../src/groups/partition-set.js";
import type { HeartbeatRequest, HeartbeatResponse } from "../../src/groups/types.js";
import type { Backend } from "../../src/storage/ports.js";
import { testBackends } from "../support/backends.js";

/**
 * Issue 10, item 5: one partition must never have two owners, whatever heartbeats are duplicated,
 * delayed or retried. Each test plays a member's client by hand: what it holds is what it acts on,
 * and it changes only when the client adopts an answer. A "stale" request is a copy of one the
 * client sent earlier (a retried attempt after a timeout, or a duplicate) that reaches the
 * coordinator late; its answer goes nowhere.
 *
 * After every step the safety property is checked against the coordinator's own view: every
 * partition a client holds is, on the server, assigned to or being revoked from that very member.
 * Together with the server's disjointness that is "no two clients act on one partition".
 *
 * The range assignor and member ids chosen by the test ("a" < "b" < "c") make targets predictable.
 */
class Client {
  epoch = 0;
  held = new Set<string>();

  constructor(
    readonly id: string,
    readonly topic: string,
  ) {}

  /** The heartbeat this client would send now (a snapshot: a stale copy keeps what it said then). */
  request(): HeartbeatRequest {
    return {
      memberId: this.id,
      memberEpoch: this.epoch,
      subscribedTopics: this.epoch === 0 ? [this.topic] : undefined,
      ownedPartitions: toTopicPartitions(this.held),
    };
  }

  /** Acts on an answer: gives up what it no longer lists, takes what it adds. */
  adopt(answer: HeartbeatResponse): void {
    this.epoch = answer.memberEpoch;
    this.held = toPartitionSet(answer.assignment);
  }
}

describe.each(testBackends)("consumer group ownership under stale heartbeats on $name", ({ create }) => {
  let backend: Backend;
  let broker: Broker;
  const now = 1_700_000_000_000;
  let n = 0;
  const unique = (prefix: string) => `${prefix}${++n}-${Math.random().toString(36).slice(2, 8)}`;

  beforeAll(async () => {
    backend = await create();
    broker = new Broker(backend);
  });
  afterAll(async () => {
    await backend?.close();
  });

  async function setup(partitions: number) {
    const topic = unique("own");
    const groupId = unique("g");
    await broker.createTopic(topic, partitions);
    const c = new GroupCoordinator({ meta: backend.meta, broker, clock: () => now, assignor: "range" });
    const clients = new Map<string, Client>();
    const client = (id: string) => {
      let cl = clients.get(id);
      if (!cl) clients.set(id, (cl = new Client(id, topic)));
      return cl;
    };
    /** Sends the client's heartbeat and returns the answer without acting on it yet. */
    const send = (cl: Client) => c.heartbeat(groupId, cl.request());
    /** Sends and acts on the answer at once. */
    const beat = async (cl: Client) => {
      const answer = await send(cl);
      cl.adopt(answer);
      await expectSafe();
      return answer;
    };
    /** A late copy of an earlier request: whatever it is answered, nobody hears it. */
    const deliverStale = async (request: HeartbeatRequest) => {
      await c.heartbeat(groupId, request).catch((e: unknown) => {
        expect(e).toBeInstanceOf(FloeError);
        expect(["FENCED_MEMBER_EPOCH", "UNKNOWN_MEMBER_ID"]).toContain((e as FloeError).code);
      });
      await expectSafe();
    };
    const expectSafe = async () => {
      const d = await c.describe(groupId);
      const serverOwner = new Map<string, string>();
      for (const m of d.members) {
        for (const k of [...toPartitionSet(m.assignment), ...toPartitionSet(m.pendingRevocation)]) {
          expect(serverOwner.get(k), `${k} owned by ${serverOwner.get(k)} and ${m.memberId}`).toBeUndefined();
          serverOwner.set(k, m.memberId);
        }
      }
      for (const cl of clients.values()) {
        for (const k of cl.held) {
          expect(serverOwner.get(k), `${cl.id} still acts on ${k}`).toBe(cl.id);
        }
      }
    };
    const tps = (...ps: number[]) => (ps.length === 0 ? [] : [{ topic, partitions: ps }]);
    return { topic, groupId, c, client, send, beat, deliverStale, expectSafe, tps };
  }

  it("a previous-epoch heartbeat with a stale owned list never completes a revocation (the issue's reproduction)", async () => {
    const { c, groupId, client, send, beat, deliverStale, expectSafe, tps } = await setup(2);
    const a = client("a");
    const b = client("b");
    const cc = client("c");
    expect((await beat(a)).assignment).toEqual(tps(0, 1));
    expect((await beat(b)).assignment).toEqual([]);
    // a gives 1 to b.
    expect((await beat(a)).assignment).toEqual(tps(0));
    await beat(a);
    expect((await beat(b)).assignment).toEqual(tps(1));
    // b leaves; a gets 1 back, moving to a new epoch whose previous epoch saw it own only [0].
    b.held.clear();
    await c.heartbeat(groupId, { memberId: "b", memberEpoch: -1 });
    const stale = a.request();
    expect((await beat(a)).assignment).toEqual(tps(0, 1));
    expect(stale.memberEpoch).toBeLessThan(a.epoch);
    // c joins: 1 is to move from a to c. a is told, and is still giving 1 up (committing, say).
    expect((await beat(cc)).assignment).toEqual([]);
    const told = await send(a);
    expect(told.assignment).toEqual(tps(0));
    await expectSafe();
    // The duplicate of a's earlier heartbeat (previous epoch, not listing 1) arrives now.
    await deliverStale(stale);
    expect((await beat(cc)).assignment).toEqual([]);
    expect((await c.describe(groupId)).members.find((m) => m.memberId === "a")?.pendingRevocation).toEqual(
      tps(1),
    );
    // Only a, at its current epoch, saying it let 1 go, hands it on.
    a.adopt(told);
    await beat(a);
    expect((await beat(cc)).assignment).toEqual(tps(1));
    expect(a.held).toEqual(toPartitionSet(tps(0)));
  });

  it("a delayed heartbeat from before a late grant, at the same epoch, does not release that partition", async () => {
    const { client, send, beat, deliverStale, expectSafe, tps } = await setup(2);
    const a = client("a");
    const b = client("b");
    const cc = client("c");
    await beat(a);
    // c joins; 1 is still a's, so c gets nothing yet at the new epoch.
    expect((await beat(cc)).assignment).toEqual([]);
    // c's next heartbeat times out at the client but is still on its way.
    const delayed = cc.request();
    await beat(a);
    await beat(a);
    // c's retry: same epoch, same owned list; now 1 is free and c takes it.
    expect((await beat(cc)).assignment).toEqual(tps(1));
    // b joins (b < c): 1 is to move from c to b. c is told and is still giving 1 up.
    expect((await beat(b)).assignment).toEqual([]);
    const told = await send(cc);
    expect(told.assignment).toEqual([]);
    await expectSafe();
    // The delayed attempt (sent before c had 1, so not listing it) lands now.
    await deliverStale(delayed);
    expect((await beat(b)).assignment).toEqual([]);
    cc.adopt(told);
    await beat(cc);
    expect((await beat(b)).assignment).toEqual(tps(1));
  });

  it("a duplicated join arriving late does not free what the member holds", async () => {
    const { client, beat, deliverStale, tps } = await setup(2);
    const a = client("a");
    const b = client("b");
    const join = a.request();
    expect((await beat(a)).assignment).toEqual(tps(0, 1));
    expect((await beat(b)).assignment).toEqual([]);
    // The join's first attempt (the client retried it) reaches the coordinator only now.
    await deliverStale(join);
    expect((await beat(b)).assignment).toEqual([]);
    // a is told to give everything up, or fenced; either way it converges without a double owner.
    for (let i = 0; i < 6; i++) {
      try {
        await beat(a);
      } catch (e) {
        expect((e as FloeError).code).toBe("FENCED_MEMBER_EPOCH");
        a.held.clear();
        a.epoch = 0;
      }
      await beat(b);
    }
    expect(a.held).toEqual(toPartitionSet(tps(0)));
    expect(b.held).toEqual(toPartitionSet(tps(1)));
  });

  it("a retried heartbeat whose first attempt lands last changes nothing", async () => {
    const { client, beat, deliverStale, tps } = await setup(2);
    const a = client("a");
    const b = client("b");
    await beat(a);
    await beat(b);
    const firstAttempt = a.request();
    // The retry (same body) is answered: give up 1.
    expect((await beat(a)).assignment).toEqual(tps(0));
    await beat(a);
    expect((await beat(b)).assignment).toEqual(tps(1));
    await deliverStale(firstAttempt);
    await deliverStale(firstAttempt);
    expect((await beat(a)).assignment).toEqual(tps(0));
    expect((await beat(b)).assignment).toEqual(tps(1));
  });

  it("a lost answer: the previous epoch is answered with the member's current state", async () => {
    const { client, send, beat, tps } = await setup(2);
    const a = client("a");
    const b = client("b");
    await beat(a);
    await beat(b);
    await beat(a);
    // The answer moving a to the new epoch is lost; a asks again with its previous epoch.
    const lost = await send(a);
    expect(lost.memberEpoch).toBeGreaterThan(a.epoch);
    const again = await beat(a);
    expect(again).toMatchObject({ memberEpoch: lost.memberEpoch, assignment: tps(0) });
    expect((await beat(b)).assignment).toEqual(tps(1));
  });
});
