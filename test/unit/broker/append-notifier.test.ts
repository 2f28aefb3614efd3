import { describe, expect, it } from "vitest";
import { AppendNotifier } from "../../../src/broker/append-notifier.js";

describe("AppendNotifier", () => {
  it("forgets a partition once its last waiter timed out (issue 11: the map grew with every partition ever long-polled)", async () => {
    const notifier = new AppendNotifier();
    await Promise.all(Array.from({ length: 50 }, (_, p) => notifier.wait("t", p, 1)));
    expect(notifier.waitingPartitions).toBe(0);
  });

  it("keeps a partition while another waiter still waits, and forgets it when that one is woken", async () => {
    const notifier = new AppendNotifier();
    const short = notifier.wait("t", 0, 1);
    let woken = false;
    const long = notifier.wait("t", 0, 60_000).then(() => {
      woken = true;
    });
    await short;
    expect(notifier.waitingPartitions).toBe(1);
    expect(woken).toBe(false);
    notifier.notify("t", 0);
    await long;
    expect(woken).toBe(true);
    expect(notifier.waitingPartitions).toBe(0);
  });

  it("a waiter that times out after a notify does not remove the next round's waiters", async () => {
    const notifier = new AppendNotifier();
    const first = notifier.wait("t", 0, 60_000);
    notifier.notify("t", 0);
    await first;
    const second = notifier.wait("t", 0, 60_000);
    expect(notifier.waitingPartitions).toBe(1);
    notifier.notify("t", 0);
    await second;
    expect(notifier.waitingPartitions).toBe(0);
  });
});
