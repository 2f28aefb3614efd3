import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ProduceOutcome } from "../../../src/broker/append.js";
import { Broker } from "../../../src/broker/broker.js";
import { GroupCommitter } from "../../../src/broker/group-committer.js";
import type { ProduceRequest } from "../../../src/broker/types.js";
import { FloeError } from "../../../src/errors.js";
import { createBackend } from "../../../src/storage/backend.js";
import type { Backend } from "../../../src/storage/ports.js";

const bytes = (s: string) => new TextEncoder().encode(s);
const request = (topic: string, ...values: string[]): ProduceRequest => ({
  topic,
  records: values.map((v) => ({ value: bytes(v), partition: 0 })),
});

/** The real broker, with every produceMany call recorded and optionally held until released. */
class GatedBroker {
  calls: ProduceRequest[][] = [];
  private gate: Promise<void> | undefined;
  private open: (() => void) | undefined;
  private called: (() => void) | undefined;
  constructor(private readonly broker: Broker) {}
  hold(): void {
    this.gate = new Promise((resolve) => (this.open = resolve));
  }
  release(): void {
    this.open?.();
    this.gate = undefined;
  }
  /** Resolves once produceMany has been called `n` times. */
  untilCalls(n: number): Promise<void> {
    if (this.calls.length >= n) return Promise.resolve();
    return new Promise((resolve) => {
      this.called = () => {
        if (this.calls.length >= n) resolve();
      };
    });
  }
  async produceMany(requests: ProduceRequest[]): Promise<ProduceOutcome[]> {
    this.calls.push(requests);
    this.called?.();
    if (this.gate) await this.gate;
    return this.broker.produceMany(requests);
  }
}

describe("GroupCommitter", () => {
  let backend: Backend;
  let broker: Broker;
  let gated: GatedBroker;

  beforeEach(async () => {
    backend = await createBackend({ storage: "memory" });
    broker = new Broker(backend);
    gated = new GatedBroker(broker);
    await broker.createTopic("t", 1);
    await broker.createTopic("u", 2);
  });
  afterEach(async () => {
    await backend.close();
  });

  const segmentCount = async () => (await backend.objects.list("segments/")).length;

  it("commits concurrent requests as one object and one commit, each answered with its own offsets", async () => {
    const gc = new GroupCommitter(gated, { lingerMs: 20 });
    const answers = await Promise.all([
      gc.produce(request("t", "a", "b")),
      gc.produce(request("t", "c")),
      gc.produce(request("u", "x")),
      gc.produce(request("t", "d", "e", "f")),
    ]);
    expect(answers).toEqual([
      [
        { partition: 0, offset: 0 },
        { partition: 0, offset: 1 },
      ],
      [{ partition: 0, offset: 2 }],
      [{ partition: 0, offset: 0 }],
      [
        { partition: 0, offset: 3 },
        { partition: 0, offset: 4 },
        { partition: 0, offset: 5 },
      ],
    ]);
    expect(gated.calls).toHaveLength(1);
    expect(await segmentCount()).toBe(1);
    expect(gc.stats()).toEqual({ requests: 4, commits: 1, objects: 1 });
    const fetched = await broker.fetch({ topic: "t", partition: 0, offset: 0 });
    expect(fetched.records.map((r) => new TextDecoder().decode(r.value!))).toEqual([
      "a",
      "b",
      "c",
      "d",
      "e",
      "f",
    ]);
  });

  it("answers a bad request with its own error without failing its neighbours", async () => {
    const gc = new GroupCommitter(gated, { lingerMs: 20 });
    const [good, missing, empty, alsoGood] = await Promise.allSettled([
      gc.produce(request("t", "a")),
      gc.produce(request("no-such-topic", "b")),
      gc.produce({ topic: "t", records: [] }),
      gc.produce(request("t", "c")),
    ]);
    expect(good).toEqual({ status: "fulfilled", value: [{ partition: 0, offset: 0 }] });
    expect(alsoGood).toEqual({ status: "fulfilled", value: [{ partition: 0, offset: 1 }] });
    expect(missing.status === "rejected" && (missing.reason as FloeError).code).toBe(
      "UNKNOWN_TOPIC_OR_PARTITION",
    );
    expect(empty.status === "rejected" && (empty.reason as FloeError).code).toBe("INVALID_REQUEST");
    expect(gated.calls).toHaveLength(1);
  });

  it("sends a batch that reaches maxBatchBytes without waiting out the linger", async () => {
    // A linger far longer than the test timeout: only the size bound can send these.
    const gc = new GroupCommitter(gated, { lingerMs: 600_000, maxBatchBytes: 100 });
    const big = "x".repeat(80);
    const answers = await Promise.all([gc.produce(request("t", big)), gc.produce(request("t", big))]);
    expect(answers.map((a) => a[0].offset)).toEqual([0, 1]);
    expect(gated.calls.map((c) => c.length)).toEqual([1, 1]);
    expect(gc.stats()).toEqual({ requests: 2, commits: 2, objects: 2 });
  });

  it("lets requests accumulate for the next batch while a commit is in flight (pipelining)", async () => {
    const gc = new GroupCommitter(gated, { lingerMs: 0 });
    gated.hold();
    const first = gc.produce(request("t", "first"));
    await gated.untilCalls(1);
    const next = [
      gc.produce(request("t", "n1")),
      gc.produce(request("t", "n2")),
      gc.produce(request("t", "n3")),
    ];
    gated.release();
    expect(await first).toEqual([{ partition: 0, offset: 0 }]);
    expect((await Promise.all(next)).map((a) => a[0].offset)).toEqual([1, 2, 3]);
    expect(gated.calls.map((c) => c.length)).toEqual([1, 3]);
  });

  it("commits batches in arrival order, so offsets follow the order requests were made", async () => {
    const gc = new GroupCommitter(gated, { lingerMs: 0, maxBatchBytes: 60 });
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) => gc.produce(request("t", `value-${i}`))),
    );
    expect(answers.map((a) => a[0].offset)).toEqual([...Array(12).keys()]);
    expect(gated.calls.length).toBeGreaterThan(1);
  });

  it("flush() sends what is buffered at once and waits for the answers", async () => {
    const gc = new GroupCommitter(gated, { lingerMs: 600_000 });
    const pending = gc.produce(request("t", "a"));
    await gc.flush();
    expect(await pending).toEqual([{ partition: 0, offset: 0 }]);
    expect(await segmentCount()).toBe(1);
  });

  it("close() answers every accepted request, then refuses new ones as retriable", async () => {
    const gc = new GroupCommitter(gated, { lingerMs: 600_000 });
    const accepted = gc.produce(request("t", "a"));
    await gc.close();
    expect(await accepted).toEqual([{ partition: 0, offset: 0 }]);
    const refused = await gc.produce(request("t", "b")).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(FloeError);
    expect(refused).toMatchObject({ code: "NOT_LEADER_OR_FOLLOWER", retriable: true });
  });

  it("rejects every request of a batch whose produceMany fails outright", async () => {
    const failing = {
      produceMany: async () => {
        throw new FloeError("KAFKA_STORAGE_ERROR", "disk gone", { retriable: true, fault: "server" });
      },
    };
    const gc = new GroupCommitter(failing, { lingerMs: 5 });
    const results = await Promise.allSettled([gc.produce(request("t", "a")), gc.produce(request("t", "b"))]);
    for (const r of results) {
      expect(r.status).toBe("rejected");
      expect((r as PromiseRejectedResult).reason).toMatchObject({ code: "KAFKA_STORAGE_ERROR" });
    }
    expect(gc.stats()).toEqual({ requests: 2, commits: 1, objects: 0 });
  });

  it("refuses nonsensical options", () => {
    expect(() => new GroupCommitter(gated, { lingerMs: -1 })).toThrow(RangeError);
    expect(() => new GroupCommitter(gated, { maxBatchBytes: 0 })).toThrow(RangeError);
    expect(() => new GroupCommitter(gated, { maxInflight: 0 })).toThrow(RangeError);
  });
});
