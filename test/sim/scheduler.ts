/**
 * Virtual time for the simulation tier. While installed it replaces the globals the code under
 * test reads time and randomness from (setTimeout and friends, Date.now, node:crypto's randomUUID
 * and randomBytes), so a run never touches the wall clock and a seed replays it exactly.
 *
 * The run loop is the FoundationDB shape: let every ready microtask run (one macrotask turn of the
 * real event loop; nothing in a run does real I/O), then jump virtual time to the earliest timer and
 * fire it, and repeat.
 */
import { createHash, type Hash } from "node:crypto";
import { createRequire, syncBuiltinESMExports } from "node:module";
import type { Random } from "./random.js";

interface Timer {
  id: number;
  at: number;
  delay: number;
  seq: number;
  fn: (...args: unknown[]) => void;
  args: unknown[];
  interval: number | null;
  cancelled: boolean;
}

/** What setTimeout answers: enough of Node's Timeout for the code under test. */
class TimerHandle {
  constructor(
    readonly id: number,
    private readonly scheduler: Scheduler,
  ) {}
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }
  hasRef(): boolean {
    return true;
  }
  refresh(): this {
    this.scheduler.refresh(this.id);
    return this;
  }
  [Symbol.toPrimitive](): number {
    return this.id;
  }
}

const realSetImmediate = globalThis.setImmediate;
/** node:crypto's CommonJS exports: what syncBuiltinESMExports copies into the ESM namespace. */
const cryptoExports = createRequire(import.meta.url)("node:crypto") as Record<string, unknown>;

/** Lets every queued microtask (and those they queue) run: one turn of the real event loop. */
function quiesce(): Promise<void> {
  return new Promise((resolve) => realSetImmediate(resolve));
}

export class Scheduler {
  now: number;
  private readonly timers: Timer[] = [];
  private readonly byId = new Map<number, Timer>();
  private nextId = 1;
  private seq = 0;
  private restore: (() => void) | null = null;
  private readonly hash: Hash = createHash("sha256");
  /** Timers fired so far. */
  steps = 0;
  traceLength = 0;
  /** The last few trace lines, for failure reports. */
  readonly recent: string[] = [];
  verbose = false;

  constructor(
    start: number,
    private readonly random: Random,
  ) {
    this.now = start;
  }

  /** One event of the run: hashed into the trace digest two runs of a seed must agree on. */
  trace(line: string): void {
    const entry = `${this.now} ${line}`;
    this.hash.update(entry);
    this.hash.update("\n");
    this.traceLength++;
    this.recent.push(entry);
    if (this.recent.length > 200) this.recent.shift();
    if (this.verbose) process.stdout.write(`${entry}\n`);
  }

  digest(): string {
    return this.hash.copy().digest("hex");
  }

  setTimeout(fn: (...args: unknown[]) => void, ms = 0, ...args: unknown[]): TimerHandle {
    return this.add(fn, ms, args, null);
  }

  setInterval(fn: (...args: unknown[]) => void, ms = 0, ...args: unknown[]): TimerHandle {
    return this.add(fn, ms, args, Math.max(1, Number(ms) || 0));
  }

  clear(handle: unknown): void {
    const id = typeof handle === "number" ? handle : handle instanceof TimerHandle ? handle.id : undefined;
    if (id === undefined) return;
    const t = this.byId.get(id);
    if (t) {
      t.cancelled = true;
      this.byId.delete(id);
    }
  }

  refresh(id: number): void {
    const t = this.byId.get(id);
    if (!t) return;
    t.cancelled = true;
    const fresh = { ...t, at: this.now + t.delay, cancelled: false, seq: this.seq++ };
    this.byId.set(id, fresh);
    this.push(fresh);
  }

  /** A promise resolved after `ms` of virtual time. */
  sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => this.setTimeout(() => resolve(), ms));
  }

  /** Runs until `done()` holds at a quiet moment, no timer is left, or virtual time passes `until`. */
  async run(done: () => boolean, until: number): Promise<"done" | "idle" | "deadline"> {
    for (;;) {
      await quiesce();
      if (done()) return "done";
      const t = this.pop();
      if (!t) return "idle";
      if (t.at > until) {
        this.push(t);
        return "deadline";
      }
      this.now = Math.max(this.now, t.at);
      this.steps++;
      if (t.interval !== null) {
        const again = { ...t, at: this.now + t.interval, seq: this.seq++ };
        this.byId.set(t.id, again);
        this.push(again);
      } else {
        this.byId.delete(t.id);
      }
      t.fn(...t.args);
    }
  }

  /** Drives `promise` to completion in virtual time. */
  async drive<T>(promise: Promise<T>, until: number): Promise<T> {
    let settled = false;
    const tracked = promise.finally(() => {
      settled = true;
    });
    tracked.catch(() => {});
    const how = await this.run(() => settled, until);
    if (!settled) throw new Error(`simulation stalled (${how}) at virtual time ${this.now}`);
    return tracked;
  }

  install(): void {
    if (this.restore) return;
    const g = globalThis as unknown as Record<string, unknown>;
    const saved = {
      setTimeout: g.setTimeout,
      clearTimeout: g.clearTimeout,
      setInterval: g.setInterval,
      clearInterval: g.clearInterval,
      now: Date.now,
    };
    const cjs = cryptoExports;
    const savedCrypto = { randomUUID: cjs.randomUUID, randomBytes: cjs.randomBytes };
    g.setTimeout = (fn: () => void, ms?: number, ...args: unknown[]) => this.setTimeout(fn, ms, ...args);
    g.clearTimeout = (h: unknown) => this.clear(h);
    g.setInterval = (fn: () => void, ms?: number, ...args: unknown[]) => this.setInterval(fn, ms, ...args);
    g.clearInterval = (h: unknown) => this.clear(h);
    Date.now = () => this.now;
    cjs.randomUUID = () => uuidFrom(this.random.bytes(16));
    cjs.randomBytes = (n: number, cb?: (err: Error | null, buf: Buffer) => void) => {
      const buf = this.random.bytes(n);
      if (cb) {
        this.setTimeout(() => cb(null, buf), 0);
        return undefined;
      }
      return buf;
    };
    syncBuiltinESMExports();
    this.restore = () => {
      g.setTimeout = saved.setTimeout;
      g.clearTimeout = saved.clearTimeout;
      g.setInterval = saved.setInterval;
      g.clearInterval = saved.clearInterval;
      Date.now = saved.now;
      cjs.randomUUID = savedCrypto.randomUUID;
      cjs.randomBytes = savedCrypto.randomBytes;
      syncBuiltinESMExports();
    };
  }

  uninstall(): void {
    this.restore?.();
    this.restore = null;
  }

  /** Timers still pending (cancelled ones excluded). */
  get pending(): number {
    return this.byId.size;
  }

  private add(fn: (...args: unknown[]) => void, ms: number, args: unknown[], interval: number | null) {
    // As Node does: anything outside [1, 2^31 - 1] ms becomes 1 ms.
    const n = Number(ms);
    // Time stays whole milliseconds, as Date.now is: a fractional delay fires on the next one.
    const delay = n >= 1 && n <= 2 ** 31 - 1 ? Math.ceil(n) : 1;
    const t: Timer = {
      id: this.nextId++,
      at: this.now + delay,
      delay,
      seq: this.seq++,
      fn,
      args,
      interval,
      cancelled: false,
    };
    this.byId.set(t.id, t);
    this.push(t);
    return new TimerHandle(t.id, this);
  }

  // A binary min-heap on (at, seq); cancelled timers are dropped lazily when they surface.
  private push(t: Timer): void {
    const h = this.timers;
    h.push(t);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }

  private pop(): Timer | undefined {
    const h = this.timers;
    while (h.length > 0) {
      const top = h[0];
      const last = h.pop()!;
      if (h.length > 0) {
        h[0] = last;
        let i = 0;
        for (;;) {
          const l = 2 * i + 1;
          const r = l + 1;
          let m = i;
          if (l < h.length && before(h[l], h[m])) m = l;
          if (r < h.length && before(h[r], h[m])) m = r;
          if (m === i) break;
          [h[i], h[m]] = [h[m], h[i]];
          i = m;
        }
      }
      if (!top.cancelled && this.byId.get(top.id) === top) return top;
    }
    return undefined;
  }
}

function before(a: Timer, b: Timer): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

function uuidFrom(b: Buffer): string {
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = b.toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
