import { describe, expect, it } from "vitest";
import { chunks, splitIntoLanes } from "../../../src/subscriptions/delivery-lanes.js";
import { messageId } from "../../../src/subscriptions/message-id.js";
import { records } from "./delivery-fixtures.js";

describe("splitIntoLanes", () => {
  it("keeps every record once, each lane in offset order, each key in one lane", () => {
    const run = records(1_000, { key: (i) => (i % 7 === 0 ? null : `k${i % 37}`) });
    const lanes = splitIntoLanes(run, 4);
    expect(lanes.length).toBeGreaterThan(1);
    expect(lanes.length).toBeLessThanOrEqual(4);
    expect(
      lanes
        .flat()
        .map((r) => r.offset)
        .sort((a, b) => a - b),
    ).toEqual(run.map((r) => r.offset));
    const laneOfKey = new Map<string, number>();
    lanes.forEach((lane, n) => {
      for (let i = 1; i < lane.length; i++) expect(lane[i].offset).toBeGreaterThan(lane[i - 1].offset);
      for (const r of lane) {
        const key = r.key === null ? "<null>" : new TextDecoder().decode(r.key);
        expect(laneOfKey.get(key) ?? n).toBe(n);
        laneOfKey.set(key, n);
      }
    });
  });

  it("factor 1 is the run itself; nothing gives no lanes", () => {
    const run = records(3, { key: (i) => `k${i}` });
    expect(splitIntoLanes(run, 1)).toEqual([run]);
    expect(splitIntoLanes([], 3)).toEqual([]);
  });

  it("chunks slices in order", () => {
    expect(chunks([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
  });
});

describe("messageId", () => {
  it("is stable for the same range and differs for another range or incarnation", () => {
    const id = messageId("inc", "t", 0, 10, 19);
    expect(id).toMatch(/^msg_[A-Za-z0-9_-]{24}$/);
    expect(messageId("inc", "t", 0, 10, 19)).toBe(id);
    expect(messageId("inc", "t", 0, 10, 18)).not.toBe(id);
    expect(messageId("inc", "t", 1, 10, 19)).not.toBe(id);
    expect(messageId("other", "t", 0, 10, 19)).not.toBe(id);
  });
});
