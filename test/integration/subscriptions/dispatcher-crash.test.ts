/**
 * A dispatcher killed mid-batch (issue 14): `floe dev` as a child process delivers to a real HTTP
 * endpoint that holds a batch open; the process is killed with SIGKILL while it waits, and restarted
 * on the same data directory. Once the dead member's session times out the restarted dispatcher
 * owns the partition again and starts from the committed offset: the held batch is delivered again
 * and nothing is lost (at least once; a record may come twice across the crash, never zero times).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DevProcess, spawnFloeDev, stopProcess } from "../server/dev-process.js";
import { type Delivery, type WebhookRecord, WebhookTarget } from "../../support/webhook-target.js";
import {
  createSubscription,
  createTopic,
  expectEachAtLeastOnce,
  expectKeyOrder,
  expectOffsetOrder,
  groupLag,
  produceKeyed,
  untilDelivered,
  waitFor,
} from "./subscription-harness.js";

/** Short, so the killed member's partitions move soon (Kafka's group.consumer.session.timeout.ms). */
const SESSION_TIMEOUT = ["--group-session-timeout-ms", "3000"];

describe("push subscriptions: a dispatcher killed mid-batch", () => {
  let dataDir: string;
  let floe: DevProcess | undefined;
  let target: WebhookTarget | undefined;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "floe-subscription-crash-"));
  });
  afterAll(async () => {
    await stopProcess(floe);
    await target?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("redelivers the batch in flight when the process died, and loses nothing", async () => {
    const seqOf = (r: WebhookRecord) => (r.value as { seq: number }).seq;
    let held: Delivery | undefined;
    target = await WebhookTarget.start({
      behaviour: (delivery) => {
        if (!held && delivery.records.some((r) => seqOf(r) >= 50)) {
          held = delivery;
          return "hang";
        }
        return { status: 200 };
      },
    });
    floe = await spawnFloeDev(dataDir, SESSION_TIMEOUT);
    const topic = "crash";
    await createTopic(floe.url, topic, 1);
    const name = "crash";
    const created = await createSubscription(floe.url, {
      name,
      topics: [topic],
      target: { type: "http", url: target.url },
      batchSize: 20,
      maximumBatchingWindowMs: 20,
    });
    target.verifyWith(created.secret);

    const first = await produceKeyed(floe.url, topic, 50, { keys: 1, perRequest: 50 });
    await untilDelivered(
      floe!.url,
      name,
      "the first 50 were accepted",
      () => target!.accepted().length >= 50,
    );
    const second = await produceKeyed(floe.url, topic, 50, { keys: 1, first: 50, perRequest: 50 });
    await target.until("a batch is held open", () => held !== undefined);
    const heldOffsets = held!.records.map((r) => r.offset);

    floe.child.kill("SIGKILL");
    expect((await floe.exited).signal).toBe("SIGKILL");
    const beforeCrash = target.accepted();
    expectOffsetOrder(beforeCrash);
    expect(beforeCrash.map((r) => r.offset)).not.toContain(heldOffsets[0]);
    const deliveriesBeforeRestart = target.deliveries.length;

    floe = await spawnFloeDev(dataDir, SESSION_TIMEOUT);
    const third = await produceKeyed(floe.url, topic, 50, { keys: 1, first: 100, perRequest: 50 });
    const produced = [...first, ...second, ...third];
    await untilDelivered(floe!.url, name, "every record was accepted", () => {
      const seen = new Set(target!.accepted().map((r) => r.offset));
      return produced.every((p) => seen.has(p.offset));
    });
    const afterRestart = target.deliveries.slice(deliveriesBeforeRestart);
    const acceptedAfter = afterRestart.flatMap((d) =>
      d.status !== undefined && d.status < 300 ? d.records : [],
    );
    expect(acceptedAfter.map((r) => r.offset)).toEqual(expect.arrayContaining(heldOffsets));
    expectOffsetOrder(acceptedAfter);
    expectKeyOrder(acceptedAfter);
    expectEachAtLeastOnce(target.accepted(), produced);
    expect(target.unverified()).toEqual([]);
    await waitFor("the group has no lag", async () => (await groupLag(floe!.url, name)) === 0);
  }, 120_000); // two `floe dev` start-ups under tsx, and a session timeout to wait out
});
