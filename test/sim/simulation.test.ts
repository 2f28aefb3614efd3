/**
 * The simulation tier under `npm test`: a few hundred seeded runs of producers, group consumers,
 * maintenance, topic churn and crashes over fault-injecting storage, each checked against the
 * invariants (see run.ts and invariants.ts). A failure names its seed; `npm run sim -- --seed S`
 * replays it exactly. FLOE_SIM_SEEDS and FLOE_SIM_START choose other seeds.
 */
import { describe, expect, it } from "vitest";
import { FAULT_KINDS, emptyCounts } from "./faults.js";
import { describeFailure, type RunResult, runSeed } from "./run.js";

const SEEDS = Number(process.env.FLOE_SIM_SEEDS ?? 250);
const START = Number(process.env.FLOE_SIM_START ?? 1);

describe("deterministic simulation", () => {
  it("replays a seed exactly: two runs give one trace", async () => {
    const a = await runSeed(4242);
    const b = await runSeed(4242);
    expect(a.traceLength).toBeGreaterThan(100);
    expect(b.digest).toBe(a.digest);
    expect(b.traceLength).toBe(a.traceLength);
    const c = await runSeed(4243);
    expect(c.digest).not.toBe(a.digest);
  });

  it(`holds every invariant over ${SEEDS} seeds from ${START}`, { timeout: 600_000 }, async () => {
    const failures: RunResult[] = [];
    const totals = emptyCounts();
    let acked = 0;
    for (let seed = START; seed < START + SEEDS; seed++) {
      const r = await runSeed(seed);
      for (const k of FAULT_KINDS) totals[k] += r.counts[k];
      acked += r.attempts.acked;
      if (!r.ok) failures.push(r);
    }
    const summary = FAULT_KINDS.map((k) => `${k}=${totals[k]}`).join(" ");
    console.log(`simulation: ${SEEDS} seeds from ${START}, ${acked} acked requests; faults: ${summary}`);
    // Every kind of fault was injected somewhere, or the tier is not testing what it claims.
    for (const k of FAULT_KINDS) expect(totals[k], `no ${k} injected in ${SEEDS} seeds`).toBeGreaterThan(0);
    expect(failures.map(describeFailure).join("\n\n")).toBe("");
  });
});
