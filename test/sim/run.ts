/**
 * One seeded simulation run: build the world from the seed, let producers, consumers, maintenance,
 * topic churn and chaos loose on it in virtual time, let it settle, then check the invariants.
 * Everything random comes from the seed, so `runSeed(s)` twice gives the same trace digest.
 */
import {
  chaosMonkey,
  idempotenceAvailable,
  idempotentProducer,
  Member,
  maintenanceWorker,
  Ownership,
  plainProducer,
  type TopicSpec,
  topicChurner,
} from "./actors.js";
import { drawRates, emptyCounts, type FaultCounts, type FaultRates, noFaults } from "./faults.js";
import { checkInvariants } from "./invariants.js";
import { Random } from "./random.js";
import { Scheduler } from "./scheduler.js";
import { GC_GRACE_MS, type Violation, World, type WorldConfig } from "./world.js";

/** 2025-01-01T00:00:00Z: where virtual time starts. */
const T0 = Date.UTC(2025, 0, 1);
/** A run that has not finished after this much virtual time is stuck. */
const MAX_VIRTUAL_MS = 60 * 60 * 1000;

export interface RunOptions {
  /** Print every trace line as it happens. */
  verbose?: boolean;
}

export interface RunResult {
  seed: number;
  ok: boolean;
  violations: Violation[];
  counts: FaultCounts;
  rates: FaultRates;
  config: WorldConfig & {
    plainProducers: number;
    idempotentProducers: number;
    consumers: number;
    churn: boolean;
    maintenance: boolean;
  };
  /** sha256 of the event trace: equal for two runs of one seed. */
  digest: string;
  traceLength: number;
  /** The last trace lines, for a failure report. */
  recent: string[];
  virtualMs: number;
  wallMs: number;
  attempts: { acked: number; refused: number; timedOut: number; unknown: number; unavailable: number };
}

export async function runSeed(seed: number, options: RunOptions = {}): Promise<RunResult> {
  const started = performance.now();
  const rng = new Random(seed);
  const sched = new Scheduler(T0, rng.fork("crypto"));
  sched.verbose = options.verbose ?? false;
  const counts = emptyCounts();
  const setup = rng.fork("setup");
  const rates = drawRates(rng.fork("rates"));
  const processes = setup.int(1, 3);
  const config = {
    processes,
    groupCommit: Array.from({ length: processes }, () => setup.chance(0.5)),
    brokerTimeoutMs: setup.pick([2_000, 5_000]),
    plainProducers: setup.int(1, 5),
    idempotentProducers: setup.int(0, 2),
    consumers: setup.int(0, 3),
    churn: setup.chance(0.5),
    maintenance: setup.chance(0.85),
  };
  const world = new World(sched, rng.fork("world"), config, rates, counts);

  sched.install();
  try {
    await sched.drive(simulate(world, rng, config), T0 + MAX_VIRTUAL_MS);
  } catch (e) {
    world.violation("run-completes", e instanceof Error ? (e.stack ?? e.message) : String(e));
  } finally {
    sched.uninstall();
  }
  sched.trace(`end violations=${world.violations.length}`);
  const tally = { acked: 0, refused: 0, timedOut: 0, unknown: 0, unavailable: 0 };
  for (const a of world.attempts) tally[a.outcome]++;
  return {
    seed,
    ok: world.violations.length === 0,
    violations: world.violations,
    counts,
    rates,
    config,
    digest: sched.digest(),
    traceLength: sched.traceLength,
    recent: [...sched.recent],
    virtualMs: sched.now - T0,
    wallMs: performance.now() - started,
    attempts: tally,
  };
}

async function simulate(world: World, rng: Random, config: RunResult["config"]): Promise<void> {
  const { sched } = world;
  const topics: TopicSpec[] = [
    { name: "events", partitions: 4, stable: true, retention: false },
    { name: "keyed", partitions: 3, stable: true, retention: false },
    { name: "aging", partitions: 2, stable: true, retention: true },
  ];
  const churn: TopicSpec = { name: "scratch", partitions: 2, stable: false, retention: false };
  const setupBroker = world.cleanBroker();
  await setupBroker.createTopic("events", 4);
  await setupBroker.createTopic("keyed", 3);
  await setupBroker.createTopic("aging", 2, { "retention.ms": 15_000 });
  if (config.churn) await setupBroker.createTopic(churn.name, churn.partitions);

  for (const p of world.processes) p.start();
  if (config.maintenance) {
    world.processes.forEach((p, i) => void maintenanceWorker(world, p, rng.fork(`maintenance${i}`)));
  }
  void chaosMonkey(world, rng.fork("chaos"));
  const background: Promise<void>[] = [];
  if (config.churn) background.push(topicChurner(world, rng.fork("churn"), churn));

  const produceTo = config.churn ? [...topics, churn] : topics;
  const producers: Promise<void>[] = [];
  for (let i = 0; i < config.plainProducers; i++) {
    const r = rng.fork(`plain${i}`);
    producers.push(plainProducer(world, `plain${i}`, r, r.int(6, 16), produceTo));
  }
  const idempotent = idempotenceAvailable(world.processes[0]);
  for (let i = 0; idempotent && i < config.idempotentProducers; i++) {
    const r = rng.fork(`idem${i}`);
    producers.push(idempotentProducer(world, `idem${i}`, r, r.int(6, 16), r.pick(topics)));
  }

  const ownership = new Ownership(world);
  const members: Promise<void>[] = [];
  let memberCount = 0;
  const spawn = () => {
    const name = `member${memberCount++}`;
    const member = new Member(name, world, rng.fork(name), ownership, "sim-group", topics.slice(0, 2), () => {
      // A replacement joins a little later, as an autoscaler or a restart would bring one.
      if (!world.stopping) sched.setTimeout(spawn, rng.int(500, 5_000));
    });
    members.push(member.run());
  };
  for (let i = 0; i < config.consumers; i++) spawn();

  await Promise.all(producers);
  sched.trace("producers done: settling");
  world.stopping = true;
  world.rates = noFaults();
  // Members spawned late are pushed onto `members` while we wait.
  for (let seen = 0; seen < members.length; seen = members.length) await Promise.all(members);
  await Promise.all(background);
  // Stragglers (slow storage calls that still land) finish; dead processes come back.
  await sched.sleep(20_000);
  world.finished = true;

  // A fault-free maintenance pass, then another once the grace period has passed, so garbage
  // collection gets to delete orphans and merged-away objects under the GC check.
  if (config.maintenance) {
    const proc = world.processes.find((p) => p.life.alive) ?? world.processes[0];
    if (!proc.life.alive) proc.start();
    for (const pause of [0, GC_GRACE_MS + 1_000]) {
      await sched.sleep(pause);
      for (let i = 0; i < 4; i++) {
        const report = await proc.maintenance.runOnce();
        if (report.cycleComplete) break;
      }
    }
  }
  await checkInvariants(world, world.cleanBroker(), topics);
}

/** The shell command that replays one seed. */
export function rerunCommand(seed: number): string {
  return `npm run sim -- --seed ${seed}`;
}

/** A short human report of one failing run. */
export function describeFailure(r: RunResult): string {
  const lines = [
    `seed ${r.seed} FAILED (${r.violations.length} violation${r.violations.length === 1 ? "" : "s"}); rerun: ${rerunCommand(r.seed)}`,
    `  config: ${JSON.stringify(r.config)}`,
    ...r.violations.slice(0, 10).map((v) => `  - ${v.invariant}: ${v.detail}`),
  ];
  if (r.violations.length > 10) lines.push(`  … and ${r.violations.length - 10} more`);
  return lines.join("\n");
}
