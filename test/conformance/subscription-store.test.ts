/**
 * The subscription store on every MetaStore backend: conditional create, versioned changes, the
 * Deleting state's refusals, secrets, stats, and removal of everything a subscription stored.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keys } from "../../src/broker/keys.js";
import { SubscriptionStore } from "../../src/subscriptions/subscription-store.js";
import type { PartitionDeliveryStats } from "../../src/subscriptions/types.js";
import type { Backend } from "../../src/storage/ports.js";
import { testBackends } from "../support/backends.js";
import { expectCode } from "../support/faults.js";

const http = { type: "http" as const, url: "https://example.com/hook" };
let counter = 0;
const unique = (label: string) => `${label}-${++counter}-${Math.random().toString(36).slice(2, 8)}`;

function stats(topic: string, partition: number, delivered: number): PartitionDeliveryStats {
  return {
    topic,
    partition,
    delivered,
    failed: 0,
    retried: 0,
    filtered: 0,
    oldestUndeliveredTimestamp: null,
    lastError: null,
    updatedAt: 1,
  };
}

describe.each(testBackends)("subscription store: $name", ({ create }) => {
  let backend: Backend;
  let store: SubscriptionStore;
  let now = 1_000;

  beforeAll(async () => {
    backend = await create();
    let id = 0;
    store = new SubscriptionStore(backend.meta, {
      clock: () => now,
      newId: () => `incarnation-${++id}`,
      randomBytes: (n) => new Uint8Array(n).fill(1),
    });
  });
  afterAll(async () => {
    await backend?.close();
  });

  it("creates with defaults, a generated secret and version 1; a second create is DUPLICATE_RESOURCE", async () => {
    const name = unique("orders");
    const s = await store.create(name, { topics: ["orders"], target: http });
    expect(s).toMatchObject({
      name,
      state: "Enabled",
      groupId: `floe-subscription-${name}`,
      secret: `whsec_${Buffer.alloc(32, 1).toString("base64")}`,
      batchSize: 100,
      createdAt: 1_000,
      updatedAt: 1_000,
      version: 1,
    });
    expect(s.incarnation).toMatch(/^incarnation-/);
    expect(await store.get(name)).toEqual(s);
    const e = await expectCode(store.create(name, { topics: ["other"], target: http }), "DUPLICATE_RESOURCE");
    expect(e.message).toContain(name);
    expect(await store.get(name)).toEqual(s);
  });

  it("of two concurrent creates of one name, exactly one wins", async () => {
    const name = unique("both");
    const results = await Promise.allSettled([
      store.create(name, { topics: ["a"], target: http }),
      store.create(name, { topics: ["b"], target: http }),
    ]);
    const won = results.filter((r) => r.status === "fulfilled");
    expect(won).toHaveLength(1);
    const lost = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
    expect(lost.reason.code).toBe("DUPLICATE_RESOURCE");
    expect(await store.get(name)).toEqual((won[0] as PromiseFulfilledResult<unknown>).value);
  });

  it("refuses a bad definition before writing anything", async () => {
    const name = unique("bad");
    await expectCode(store.create(name, { topics: ["t"], target: http, batchSize: 0 }), "INVALID_CONFIG");
    await expectCode(store.create("bad name", { topics: ["t"], target: http }), "INVALID_CONFIG");
    await expectCode(
      store.create(name, { topics: ["t"], target: { type: "lambda", functionName: "f" }, secret: "whsec_x" }),
      "INVALID_CONFIG",
    );
    await expectCode(store.create(name, { topics: ["t"], target: http, secret: "nope" }), "INVALID_CONFIG");
    expect(await store.get(name)).toBeUndefined();
  });

  it("keeps a given secret, none for Lambda, and can be created paused", async () => {
    const secret = `whsec_${Buffer.alloc(24, 9).toString("base64")}`;
    const a = await store.create(unique("a"), { topics: ["t"], target: http, secret, state: "Disabled" });
    expect(a.secret).toBe(secret);
    expect(a.state).toBe("Disabled");
    const b = await store.create(unique("b"), {
      topics: ["t"],
      target: { type: "lambda", functionName: "f" },
    });
    expect(b.secret).toBeNull();
  });

  it("lists every subscription", async () => {
    const names = [unique("l"), unique("l")];
    for (const n of names) await store.create(n, { topicRegex: "x.*", target: http });
    const listed = (await store.list()).map((s) => s.name);
    expect(listed).toEqual(expect.arrayContaining(names));
  });

  it("updates with a version precondition; a stale version is INVALID_UPDATE_VERSION and changes nothing", async () => {
    const name = unique("u");
    const s = await store.create(name, { topics: ["t"], target: http });
    now = 2_000;
    const u = await store.update(name, { batchSize: 7, state: "Disabled" }, 1);
    expect(u).toMatchObject({
      batchSize: 7,
      state: "Disabled",
      version: 2,
      updatedAt: 2_000,
      createdAt: s.createdAt,
    });
    expect(await store.get(name)).toEqual(u);
    await expectCode(store.update(name, { batchSize: 8 }, 1), "INVALID_UPDATE_VERSION");
    expect(await store.get(name)).toEqual(u);
    const v = await store.update(name, { batchSize: 9 });
    expect(v.version).toBe(3);
    await expectCode(store.update(unique("missing"), { batchSize: 1 }), "RESOURCE_NOT_FOUND");
    await expectCode(store.update(name, { batchSize: 0 }), "INVALID_CONFIG");
    expect((await store.get(name))?.batchSize).toBe(9);
  });

  it("drops the secret when the target becomes Lambda and makes one when it becomes HTTP", async () => {
    const name = unique("switch");
    let s = await store.create(name, { topics: ["t"], target: http });
    const original = s.secret;
    s = await store.update(name, { target: { ...http, url: "https://example.com/other" } });
    expect(s.secret).toBe(original);
    s = await store.update(name, { target: { type: "lambda", functionName: "f" } });
    expect(s.secret).toBeNull();
    s = await store.update(name, { target: http });
    expect(s.secret).toMatch(/^whsec_/);
    const given = `whsec_${Buffer.alloc(40, 3).toString("base64")}`;
    s = await store.update(name, { secret: given });
    expect(s.secret).toBe(given);
  });

  it("a subscription being deleted refuses changes except staying Deleting", async () => {
    const name = unique("d");
    await store.create(name, { topics: ["t"], target: http });
    const deleting = await store.setState(name, "Deleting");
    expect(deleting.state).toBe("Deleting");
    expect(await store.setState(name, "Deleting")).toEqual(deleting);
    const e = await expectCode(store.setState(name, "Enabled"), "INVALID_REQUEST");
    expect(e.message).toContain("being deleted");
    await expectCode(store.update(name, { batchSize: 5 }), "INVALID_REQUEST");
    expect(await store.get(name)).toEqual(deleting);
    await expectCode(store.setState(unique("missing"), "Disabled"), "RESOURCE_NOT_FOUND");
  });

  it("concurrent unconditional changes both land", async () => {
    const name = unique("race");
    await store.create(name, { topics: ["t"], target: http });
    await Promise.all([
      store.update(name, { batchSize: 5 }),
      store.update(name, { parallelizationFactor: 3 }),
    ]);
    expect(await store.get(name)).toMatchObject({ batchSize: 5, parallelizationFactor: 3, version: 3 });
  });

  it("stats are written per partition, read in order, and removed with the definition", async () => {
    const name = unique("stats");
    await store.create(name, { topics: ["a", "b"], target: http });
    // More than one transaction's worth, so removal has to page.
    for (let p = 0; p < 105; p++) await store.writeStats(name, stats("b", p, p));
    await store.writeStats(name, stats("a", 0, 1));
    await store.writeStats(name, stats("a", 0, 2));
    const read = await store.readStats(name);
    expect(read).toHaveLength(106);
    expect(read[0]).toEqual(stats("a", 0, 2));
    expect(read.slice(1).map((s) => s.partition)).toEqual(Array.from({ length: 105 }, (_, p) => p));
    await store.remove(name);
    expect(await store.get(name)).toBeUndefined();
    expect(await store.readStats(name)).toEqual([]);
    expect(await backend.meta.query(keys.subscriptionStatsPartition(name))).toEqual([]);
    await store.remove(name);
    // The name is free again, as a new incarnation.
    const again = await store.create(name, { topics: ["a"], target: http });
    expect(again.version).toBe(1);
  });
});
