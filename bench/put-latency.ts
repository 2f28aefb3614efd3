/**
 * What a PUT to the embedded object store costs when the process and the machine are busy: the
 * evidence behind docs/performance.md's account of why floe dev's PUTs take several times longer
 * than the same PUTs in the raw baseline.
 *
 *   npx tsx bench/put-latency.ts [--size 262144] [--puts 100] [--burn 2]
 *
 * Three phases: an idle event loop; the event loop busy in 0.5 ms slices (as when serving HTTP);
 * idle again. --burn N runs N processes spinning on a core meanwhile (a shared, loaded machine).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { FsObjectStore } from "../src/storage/fs-object-store.js";
import { Samples } from "./support/stats.js";

const { values } = parseArgs({
  options: {
    size: { type: "string", default: String(256 * 1024) },
    puts: { type: "string", default: "100" },
    burn: { type: "string", default: "0" },
  },
});
const size = Number(values.size);
const puts = Number(values.puts);
const dir = await mkdtemp(path.join(tmpdir(), "floe-put-latency-"));
const store = new FsObjectStore(dir);
const body = new Uint8Array(size).fill(7);
const burners: ChildProcess[] = Array.from({ length: Number(values.burn) }, () =>
  spawn(process.execPath, ["-e", "for(;;){}"], { stdio: "ignore" }),
);

async function phase(name: string): Promise<void> {
  const s = new Samples();
  for (let i = 0; i < puts; i++) {
    const t0 = performance.now();
    await store.put(`segments/${name}/${i}.floe`, body);
    s.push(performance.now() - t0);
  }
  const r = s.summary();
  console.log(
    `${name.padEnd(22)} p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms  mean ${r.mean.toFixed(2)} ms`,
  );
}

try {
  console.log(`${puts} PUTs of ${size} bytes, ${burners.length} CPU burners`);
  await phase("idle");
  let busy = true;
  const spin = () => {
    if (!busy) return;
    const end = performance.now() + 0.5;
    while (performance.now() < end);
    setImmediate(spin);
  };
  spin();
  await phase("busy-event-loop");
  busy = false;
  await phase("idle-again");
} finally {
  for (const b of burners) b.kill();
  await rm(dir, { recursive: true, force: true });
}
