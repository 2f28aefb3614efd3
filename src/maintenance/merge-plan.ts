/** What planning a merge needs to know of a segment. */
export interface MergeCandidate {
  base: number;
  /** Exclusive. */
  end: number;
  /** Chunk bytes. */
  len: number;
  /** Merge generation: 0 as appended, one more than its inputs once merged. */
  level: number;
}

export interface MergePlanOptions {
  segmentBytes: number;
  minSegmentsPerMerge: number;
  maxSegmentsPerMerge: number;
}

/** A segment at or above half the target is done: merging it would mostly copy bytes around. */
export function isSmall(segment: MergeCandidate, segmentBytes: number): boolean {
  return segment.len < segmentBytes / 2;
}

/**
 * The runs worth merging, in offset order, each a list of adjacent segments of one level whose
 * chunks together fit `segmentBytes`. Merging only within a level (size-tiered, as LSM trees do)
 * keeps a slowly growing tail from being rewritten on every run: a run is merged once it has
 * `minSegmentsPerMerge` members, or earlier if the result would already be done.
 */
export function planMerges<T extends MergeCandidate>(
  segments: readonly T[],
  options: MergePlanOptions,
): T[][] {
  const { segmentBytes, minSegmentsPerMerge, maxSegmentsPerMerge } = options;
  const runs: T[][] = [];
  let i = 0;
  while (i < segments.length) {
    const first = segments[i];
    if (!isSmall(first, segmentBytes)) {
      i++;
      continue;
    }
    const run: T[] = [first];
    let bytes = first.len;
    for (let j = i + 1; j < segments.length && run.length < maxSegmentsPerMerge; j++) {
      const next = segments[j];
      const adjacent = next.base === run[run.length - 1].end;
      if (!adjacent || next.level !== first.level || !isSmall(next, segmentBytes)) break;
      if (bytes + next.len > segmentBytes) break;
      run.push(next);
      bytes += next.len;
    }
    if (run.length >= 2 && (run.length >= minSegmentsPerMerge || bytes >= segmentBytes / 2)) runs.push(run);
    i += run.length;
  }
  return runs;
}

/**
 * Where the next scan for merges may start: just past the last done segment. Everything before it
 * is settled once the planned merges ran, because merges never cross a done segment and appends
 * only add segments after it.
 */
export function settledEnd(segments: readonly MergeCandidate[], segmentBytes: number): number | null {
  for (let i = segments.length - 1; i >= 0; i--) {
    if (!isSmall(segments[i], segmentBytes)) return segments[i].end;
  }
  return null;
}
