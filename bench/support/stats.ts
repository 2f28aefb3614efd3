/** The arithmetic behind every figure the benchmark reports; unit-tested in test/unit/bench. */

export const KiB = 1024;
export const MiB = 1024 * 1024;
export const GiB = 1024 * 1024 * 1024;

/**
 * Nearest-rank percentile of ascending `sorted` values: the smallest value such that at least p %
 * of the values are at or below it. NaN for no values.
 */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be in [0, 100], got ${p}`);
  // Rounded first: 99.9 % of 5000 must be rank 4995, not the 4996 that 4995.000000000001 would give.
  const rank = Math.max(1, Math.ceil(Number(((p / 100) * n).toFixed(9))));
  return sorted[Math.min(n, rank) - 1];
}

export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

/** A growable list of samples (milliseconds), summarised once at the end. */
export class Samples {
  private values = new Float64Array(1024);
  private n = 0;

  push(value: number): void {
    if (this.n === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.n++] = value;
  }

  get count(): number {
    return this.n;
  }

  summary(): LatencySummary {
    const sorted = this.values.slice(0, this.n).sort();
    let sum = 0;
    for (const v of sorted) sum += v;
    return {
      count: this.n,
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      p999: percentile(sorted, 99.9),
      max: this.n === 0 ? Number.NaN : sorted[this.n - 1],
      mean: this.n === 0 ? Number.NaN : sum / this.n,
    };
  }
}

/** `count` events spread over `bytes`, scaled to one GiB. */
export function perGiB(count: number, bytes: number): number {
  return bytes > 0 ? (count * GiB) / bytes : Number.NaN;
}

/** `count` events spread over `records`, scaled to a million records. */
export function perMillion(count: number, records: number): number {
  return records > 0 ? (count * 1e6) / records : Number.NaN;
}

export function mibPerSecond(bytes: number, seconds: number): number {
  return seconds > 0 ? bytes / MiB / seconds : Number.NaN;
}

/** Rounds for a report: 3 significant digits, integers above 1000. */
export function round(value: number): number {
  if (!Number.isFinite(value)) return value;
  if (Math.abs(value) >= 1000) return Math.round(value);
  return Number(value.toPrecision(3));
}
