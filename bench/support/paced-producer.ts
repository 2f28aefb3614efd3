/**
 * An open-loop producer for bench/peer-kafka.ts: records fall due at a fixed rate whatever the
 * server does, and every figure counts from when a record fell due, so a producer that falls behind
 * shows it in its latencies instead of quietly offering less. Each tick hands the records due since
 * the last one to `send` as one call, up to `maxInFlight` calls at once (the rest wait, and their
 * wait is counted); `send` is whatever client is measured.
 */
import { Samples, type LatencySummary } from "./stats.js";

/** Wall-clock milliseconds with sub-millisecond precision: the same clock on both ends of a record. */
export function wallNow(): number {
  return performance.timeOrigin + performance.now();
}

export interface DueRecord {
  index: number;
  /** wallNow() at which the record fell due. */
  due: number;
}

export interface PaceOptions {
  recordsPerSec: number;
  durationMs: number;
  recordBytes: number;
  /** Calls to `send` at once; Infinity leaves the limiting to the client (its buffer.memory). */
  maxInFlight: number;
  maxRecordsPerSend: number;
  /** How often due records are handed over. */
  tickMs?: number;
  /** Stop offering once this many records are due but not yet acknowledged: the client fell behind. */
  maxOutstandingRecords: number;
  /** How long to wait for the last acknowledgements after the offering ends. */
  drainTimeoutMs?: number;
  send(records: DueRecord[]): Promise<void>;
}

export interface PaceResult {
  offeredRecords: number;
  ackedRecords: number;
  failedRecords: number;
  firstError?: string;
  offeredMiBs: number;
  /** Acknowledged bytes over the time from the start to the last acknowledgement. */
  achievedMiBs: number;
  /** From a record falling due to its acknowledgement. */
  ack: LatencySummary;
  /** The most records due but not acknowledged at once. */
  maxOutstandingRecords: number;
  /** Time from the end of the offering to the last acknowledgement. */
  drainMs: number;
  /** Offering stopped early because maxOutstandingRecords was reached. */
  fellBehind: boolean;
}

export async function pace(options: PaceOptions): Promise<PaceResult> {
  const tickMs = options.tickMs ?? 5;
  const drainTimeoutMs = options.drainTimeoutMs ?? 60_000;
  const samples = new Samples();
  const queue: DueRecord[] = [];
  const start = wallNow();
  let offered = 0;
  let acked = 0;
  let failed = 0;
  let firstError: string | undefined;
  let inFlight = 0;
  let maxOutstanding = 0;
  let fellBehind = false;
  let lastAck = start;
  let wake: (() => void) | undefined;
  const settled = () => {
    inFlight--;
    wake?.();
  };

  let offerEnd = start + options.durationMs;
  for (;;) {
    const now = wallNow();
    if (!fellBehind && now < start + options.durationMs) {
      const due = Math.floor(((now - start) / 1000) * options.recordsPerSec);
      for (; offered < due; offered++) {
        queue.push({ index: offered, due: start + (offered * 1000) / options.recordsPerSec });
      }
      const outstanding = offered - acked - failed;
      maxOutstanding = Math.max(maxOutstanding, outstanding);
      if (outstanding > options.maxOutstandingRecords) {
        fellBehind = true;
        offerEnd = now;
      }
    }
    while (inFlight < options.maxInFlight && queue.length > 0) {
      const records = queue.splice(0, options.maxRecordsPerSend);
      inFlight++;
      options.send(records).then(
        () => {
          const at = wallNow();
          lastAck = at;
          acked += records.length;
          for (const r of records) samples.push(at - r.due);
          settled();
        },
        (e: unknown) => {
          failed += records.length;
          firstError ??= String((e as Error)?.message ?? e).split("\n")[0];
          settled();
        },
      );
    }
    const offering = !fellBehind && wallNow() < start + options.durationMs;
    if (!offering) {
      if (queue.length === 0 && inFlight === 0) break;
      if (wallNow() > offerEnd + drainTimeoutMs) break;
    }
    // The next tick, or sooner when a send settles and queued records can go.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, tickMs);
      wake = () => {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      };
    });
  }
  const seconds = (lastAck - start) / 1000;
  return {
    offeredRecords: offered,
    ackedRecords: acked,
    failedRecords: failed,
    firstError,
    offeredMiBs: (options.recordsPerSec * options.recordBytes) / 1024 / 1024,
    achievedMiBs: seconds > 0 ? (acked * options.recordBytes) / 1024 / 1024 / seconds : 0,
    ack: samples.summary(),
    maxOutstandingRecords: maxOutstanding,
    drainMs: Math.max(0, lastAck - offerEnd),
    fellBehind,
  };
}
