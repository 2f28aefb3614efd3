import { describe, expect, it } from "vitest";
import { CoalescedSync } from "../../../src/storage/coalesced-sync.js";

/** A sync whose runs the test finishes by hand, recording how many started. */
function manualSync() {
  const runs: { resolve: () => void; reject: (e: Error) => void }[] = [];
  const sync = new CoalescedSync(
    () => new Promise<void>((resolve, reject) => runs.push({ resolve, reject })),
  );
  return { sync, runs };
}

const settled = async (p: Promise<unknown>) => {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((r) => setImmediate(r));
  return done;
};

describe("CoalescedSync", () => {
  it("answers a request made while a sync runs only with the next sync, shared by all who waited", async () => {
    const { sync, runs } = manualSync();
    const first = sync.request();
    expect(runs).toHaveLength(1);
    const second = sync.request();
    const third = sync.request();
    // Their writes may have come after the running sync started: it cannot answer them.
    expect(runs).toHaveLength(1);
    runs[0].resolve();
    await first;
    expect(await settled(second)).toBe(false);
    expect(runs).toHaveLength(2);
    runs[1].resolve();
    await Promise.all([second, third]);
    expect(runs).toHaveLength(2);
  });

  it("starts at once when nothing runs", async () => {
    const { sync, runs } = manualSync();
    const a = sync.request();
    runs[0].resolve();
    await a;
    const b = sync.request();
    expect(runs).toHaveLength(2);
    runs[1].resolve();
    await b;
  });

  it("fails the requests a failed sync answers, and still runs the next for those queued", async () => {
    const { sync, runs } = manualSync();
    const a = sync.request();
    const b = sync.request();
    runs[0].reject(new Error("EIO"));
    await expect(a).rejects.toThrow("EIO");
    await new Promise((r) => setImmediate(r));
    expect(runs).toHaveLength(2);
    runs[1].resolve();
    await b;
  });

  it("is idle once no sync runs or waits", async () => {
    const { sync, runs } = manualSync();
    sync.request();
    sync.request();
    const idle = sync.idle();
    expect(await settled(idle)).toBe(false);
    runs[0].resolve();
    await new Promise((r) => setImmediate(r));
    expect(await settled(idle)).toBe(false);
    runs[1].resolve();
    await idle;
  });
});
