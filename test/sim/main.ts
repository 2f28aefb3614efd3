/**
 * The simulation tier's CLI: `npm run sim -- --seeds N [--start S]` runs N seeds from S (default:
 * a fresh random start, printed); `npm run sim -- --seed S [--verbose]` replays one seed exactly.
 * Prints the seeds run, the faults injected per kind, and every failure with its rerun command.
 * FLOE_SIM_DEBUG=1 adds every object write and index commit to the (verbose) trace.
 */
import { FAULT_KINDS, emptyCounts } from "./faults.js";
import { describeFailure, type RunResult, runSeed } from "./run.js";

function parseArgs(argv: string[]): { seeds: number; start: number; verbose: boolean; single: boolean } {
  let seeds = 100;
  let start: number | undefined;
  let verbose = false;
  let single = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = Number(argv[++i]);
      if (!Number.isSafeInteger(v) || v < 0) throw new Error(`${arg} needs a non-negative integer`);
      return v;
    };
    if (arg === "--seeds") seeds = value();
    else if (arg === "--start") start = value();
    else if (arg === "--seed") {
      start = value();
      seeds = 1;
      single = true;
    } else if (arg === "--verbose" || arg === "-v") verbose = true;
    else if (arg === "--help" || arg === "-h") {
      console.log("usage: npm run sim -- [--seeds N] [--start S] | --seed S [--verbose]");
      process.exit(0);
    } else throw new Error(`unknown argument ${arg}`);
  }
  return { seeds, start: start ?? Math.floor(Math.random() * 2 ** 31), verbose, single };
}

async function main(): Promise<void> {
  const { seeds, start, verbose, single } = parseArgs(process.argv.slice(2));
  console.log(`simulating ${seeds} seed${seeds === 1 ? "" : "s"} from ${start}`);
  const totals = emptyCounts();
  const failures: RunResult[] = [];
  const began = performance.now();
  let virtualMs = 0;
  for (let seed = start; seed < start + seeds; seed++) {
    const r = await runSeed(seed, { verbose });
    for (const k of FAULT_KINDS) totals[k] += r.counts[k];
    virtualMs += r.virtualMs;
    if (!r.ok) {
      failures.push(r);
      console.log(describeFailure(r));
      if (single)
        console.log(
          `  last events:\n${r.recent
            .slice(-40)
            .map((l) => `    ${l}`)
            .join("\n")}`,
        );
    } else if (single) {
      console.log(`seed ${seed} ok: ${JSON.stringify(r.attempts)} digest ${r.digest.slice(0, 16)}`);
    }
  }
  const wall = (performance.now() - began) / 1000;
  console.log(
    `\n${seeds} seeds (${start}..${start + seeds - 1}) in ${wall.toFixed(1)} s wall, ${(virtualMs / 1000).toFixed(0)} s virtual`,
  );
  console.log("faults injected:");
  for (const k of FAULT_KINDS) console.log(`  ${k.padEnd(16)} ${totals[k]}`);
  if (failures.length === 0) {
    console.log("all invariants held");
    return;
  }
  const byInvariant = new Map<string, number[]>();
  for (const f of failures) {
    for (const inv of new Set(f.violations.map((v) => v.invariant))) {
      byInvariant.set(inv, [...(byInvariant.get(inv) ?? []), f.seed]);
    }
  }
  console.log(`${failures.length} failing seed${failures.length === 1 ? "" : "s"}:`);
  for (const [inv, list] of byInvariant) {
    console.log(`  ${inv}: ${list.length} (e.g. ${list.slice(0, 5).join(", ")})`);
  }
  process.exitCode = 1;
}

await main();
