import { describe, expect, it } from "vitest";
import { Budget } from "../../../src/maintenance/budget.js";

describe("Budget", () => {
  it("runs out after its ops", () => {
    const b = new Budget({ ops: 3 }, () => 0);
    b.charge(2);
    expect(b.exhausted).toBe(false);
    b.charge();
    expect(b.exhausted).toBe(true);
    expect(b.ops).toBe(3);
  });

  it("runs out at its deadline, measured on the injected clock", () => {
    let now = 1000;
    const b = new Budget({ timeMs: 500 }, () => now);
    now = 1499;
    expect(b.exhausted).toBe(false);
    now = 1500;
    expect(b.exhausted).toBe(true);
  });

  it("is unbounded when given nothing", () => {
    const b = new Budget({}, () => Number.MAX_SAFE_INTEGER);
    b.charge(1e9);
    expect(b.exhausted).toBe(false);
  });
});
