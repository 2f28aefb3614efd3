import { describe, expect, it } from "vitest";
import { ClassicMembers, sameAssignment } from "../../../src/kafka/groups/classic-members.js";

describe("ClassicMembers", () => {
  it("merges what it learns of a member and forgets it on request", () => {
    const members = new ClassicMembers();
    members.update("g", "m", { memberEpoch: 3 });
    members.update("g", "m", { memberEpoch: 4, handedOut: { generation: 4, assignment: [] } });
    expect(members.get("g", "m")).toEqual({ memberEpoch: 4, handedOut: { generation: 4, assignment: [] } });
    expect(members.get("other-group", "m")).toBeUndefined();
    members.forget("g", "m");
    expect(members.get("g", "m")).toBeUndefined();
  });

  it("keys by group and member without letting one pair spell another", () => {
    const members = new ClassicMembers();
    members.update("ab", "c", { memberEpoch: 1 });
    expect(members.get("a", "bc")).toBeUndefined();
  });

  it("forgets the least recently seen member past its bound, so memory stays bounded", () => {
    const members = new ClassicMembers(2);
    members.update("g", "a", { memberEpoch: 1 });
    members.update("g", "b", { memberEpoch: 1 });
    // a is seen again, so b is now the oldest.
    members.update("g", "a", { memberEpoch: 2 });
    members.update("g", "c", { memberEpoch: 1 });
    expect(members.size).toBe(2);
    expect(members.get("g", "b")).toBeUndefined();
    expect(members.get("g", "a")?.memberEpoch).toBe(2);
  });
});

describe("sameAssignment", () => {
  it("compares partitions whatever the order of topics and partitions", () => {
    expect(
      sameAssignment(
        [
          { topic: "t", partitions: [1, 0] },
          { topic: "u", partitions: [2] },
        ],
        [
          { topic: "u", partitions: [2] },
          { topic: "t", partitions: [0, 1] },
        ],
      ),
    ).toBe(true);
    expect(sameAssignment([{ topic: "t", partitions: [0] }], [{ topic: "t", partitions: [1] }])).toBe(false);
    expect(sameAssignment([{ topic: "t", partitions: [0] }], [{ topic: "u", partitions: [0] }])).toBe(false);
    expect(sameAssignment([], [{ topic: "t", partitions: [] }])).toBe(true);
  });
});
