/**
 * A subscription is a consumer group (issue 14), end to end on a real `floe dev`: pausing it
 * (PATCH state Disabled) empties its group and stops delivery while producing goes on, resuming
 * delivers the rest in order; and with it paused, resetting the group's offsets to the earliest
 * (Kafka's kafka-consumer-groups --reset-offsets, over the HTTP API) replays the topic in order.
 */
import { describe, expect, it } from "vitest";
import { uniqueTopic } from "../api/harness.js";
import {
  createSubscription,
  createTopic,
  floeWithTargets,
  describeGroupOf,
  describeSubscription,
  expectCall,
  expectEachOnce,
  expectKeyOrder,
  expectOffsetOrder,
  groupLag,
  produceKeyed,
  setState,
  untilDelivered,
  waitFor,
} from "./subscription-harness.js";

/** Long enough for a running dispatcher to have polled and delivered several times over. */
const QUIET_MS = 2_500;

describe("push subscriptions: pause, resume and replay", () => {
  const floe = floeWithTargets();

  async function subscribe(prefix: string, partitions: number) {
    const target = await floe.startTarget();
    const topic = uniqueTopic(prefix);
    await createTopic(floe.url, topic, partitions);
    const name = `${prefix}-${topic}`;
    const created = await createSubscription(floe.url, {
      name,
      topics: [topic],
      target: { type: "http", url: target.url },
      batchSize: 50,
      maximumBatchingWindowMs: 20,
    });
    target.verifyWith(created.secret);
    return { target, topic, name };
  }

  const groupEmpty = (name: string) => async () => (await describeGroupOf(floe.url, name)).state === "Empty";

  it("delivers nothing while paused, then the rest in order once resumed", async () => {
    const { target, topic, name } = await subscribe("paused", 2);
    const before = await produceKeyed(floe.url, topic, 200, { keys: 8 });
    await untilDelivered(
      floe.url,
      name,
      "the first 200 were accepted",
      () => target.accepted().length >= 200,
    );
    await waitFor(
      "the group is stable",
      async () => (await describeGroupOf(floe.url, name)).members.length > 0,
    );

    await setState(floe.url, name, "Disabled");
    expect((await describeSubscription(floe.url, name)).state).toBe("Disabled");
    await waitFor("the paused subscription's group is empty", groupEmpty(name));
    const deliveriesWhenPaused = target.deliveries.length;
    const during = await produceKeyed(floe.url, topic, 300, { keys: 8, first: 200, perRequest: 30 });
    await new Promise((r) => setTimeout(r, QUIET_MS));
    expect(target.deliveries.length, "deliveries while paused").toBe(deliveriesWhenPaused);
    expect((await describeGroupOf(floe.url, name)).state).toBe("Empty");
    expect(await groupLag(floe.url, name)).toBe(300);

    await setState(floe.url, name, "Enabled");
    await untilDelivered(floe.url, name, "all 500 were accepted", () => target.accepted().length >= 500);
    const accepted = target.accepted();
    expectEachOnce(accepted, [...before, ...during]);
    expectOffsetOrder(accepted);
    expectKeyOrder(accepted);
    expect(target.unverified()).toEqual([]);
    await waitFor("the group has no lag", async () => (await groupLag(floe.url, name)) === 0);
  });

  it("replays the topic in order after its paused group's offsets are reset to the earliest", async () => {
    const { target, topic, name } = await subscribe("replay", 3);
    const produced = await produceKeyed(floe.url, topic, 300, { keys: 12 });
    await untilDelivered(floe.url, name, "the 300 were accepted", () => target.accepted().length >= 300);
    await waitFor("the group has no lag", async () => (await groupLag(floe.url, name)) === 0);

    // Kafka resets only an empty group's offsets: a running subscription's are refused.
    const refused = await fetch(`${floe.url}/v1/groups/floe-subscription-${name}/offsets/reset`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ topic, to: "earliest" }),
    });
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("NON_EMPTY_GROUP");

    await setState(floe.url, name, "Disabled");
    await waitFor("the paused subscription's group is empty", groupEmpty(name));
    const reset = await expectCall(
      floe.url,
      "POST",
      `/v1/groups/floe-subscription-${name}/offsets/reset`,
      { topic, to: "earliest" },
      200,
    );
    expect(reset.offsets.map((o: { offset: number }) => o.offset)).toEqual([0, 0, 0]);
    expect(await groupLag(floe.url, name)).toBe(300);
    const firstRun = target.accepted().length;

    await setState(floe.url, name, "Enabled");
    await untilDelivered(
      floe.url,
      name,
      "the 300 were accepted again",
      () => target.accepted().length >= firstRun + 300,
    );
    const replayed = target.accepted().slice(firstRun);
    expectEachOnce(replayed, produced);
    expectOffsetOrder(replayed);
    expectKeyOrder(replayed);
    expect(target.unverified()).toEqual([]);
    await waitFor("the group has no lag again", async () => (await groupLag(floe.url, name)) === 0);
  });
});
