import { describe, expect, it } from "vitest";
import { createBackend } from "../../../src/storage/backend.js";
import { instrumentBackend, itemBytes } from "../../../src/storage/instrumented.js";

describe("instrumented ports", () => {
  it("counts object and metadata calls, bytes, items and DynamoDB units, per caller label too", async () => {
    let label: string | undefined;
    const counted = instrumentBackend(await createBackend({ storage: "memory" }), {
      recordWrites: true,
      label: () => label,
    });
    const { objects, meta } = counted.backend;
    label = "produce";
    await objects.put("segments/a", new Uint8Array(1000));
    await meta.transact([
      { type: "check", pk: "p", sk: "missing", condition: { absent: true } },
      { type: "put", pk: "p", sk: "a", data: { v: "x".repeat(1500) } },
      { type: "put", pk: "p", sk: "b", data: {} },
    ]);
    label = "fetch";
    await objects.get("segments/a", { start: 10, end: 110 });
    await meta.get("p", "a");
    await meta.query("p");
    label = undefined;
    await objects.list("segments/");
    await objects.delete("segments/a");
    await meta.transact([{ type: "put", pk: "q", sk: "one", data: {} }]);

    const total = counted.counts();
    expect(total.objects).toMatchObject({
      puts: 1,
      putBytes: 1000,
      gets: 1,
      getBytes: 100,
      lists: 1,
      deletes: 1,
    });
    expect(total.meta).toMatchObject({
      gets: 1,
      queries: 1,
      itemsRead: 3,
      transacts: 2,
      itemsWritten: 3,
      checks: 1,
    });
    // Transaction: 2 units per KB per item (check 1 KB, a 2 KB, b 1 KB) = 8; the lone put 1.
    expect(total.meta.modelledWriteUnits).toBe(9);
    // get of a (under 4 KB): 1; query of a and b (under 4 KB together): 1.
    expect(total.meta.modelledReadUnits).toBe(2);
    expect(total.meta.reportedCalls).toBe(0);

    expect(counted.counts("produce").objects.puts).toBe(1);
    expect(counted.counts("produce").meta.transacts).toBe(1);
    expect(counted.counts("fetch").objects.gets).toBe(1);
    expect(counted.counts("fetch").meta.gets + counted.counts("fetch").meta.queries).toBe(2);
    expect(counted.counts("nobody").objects.puts).toBe(0);

    expect(counted.writes()).toEqual([
      { kind: "put", bytes: 1000 },
      { kind: "transact", puts: 2, deletes: 0, checks: 1 },
      { kind: "transact", puts: 1, deletes: 0, checks: 0 },
    ]);
    counted.reset();
    expect(counted.counts().objects.puts).toBe(0);
    expect(counted.writes()).toEqual([]);
    await counted.backend.close();
  });

  it("takes the units a store reports when it can (the DynamoDB adapter's hook)", async () => {
    const inner = await createBackend({ storage: "memory" });
    const reporting = Object.assign(inner.meta, {
      onConsumedCapacity: undefined as undefined | ((c: { readUnits: number; writeUnits: number }) => void),
    });
    const counted = instrumentBackend({ ...inner, meta: reporting });
    reporting.onConsumedCapacity?.({ readUnits: 0.5, writeUnits: 0 });
    reporting.onConsumedCapacity?.({ readUnits: 0, writeUnits: 4 });
    expect(counted.counts().meta).toMatchObject({
      reportedCalls: 2,
      reportedReadUnits: 0.5,
      reportedWriteUnits: 4,
    });
    await counted.backend.close();
  });

  it("sizes items as DynamoDB roughly does: names, keys, version and the doc", () => {
    expect(itemBytes("pk", "sk", undefined)).toBe(2 + 2 + 2 + 2 + 1 + 8 + 1);
    expect(itemBytes("pk", "sk", { a: 1 })).toBe(18 + JSON.stringify({ a: 1 }).length);
  });
});
