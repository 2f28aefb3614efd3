import { backoffDelay, sleep } from "../broker/backoff.js";
import { ConditionFailedError, FloeError } from "../errors.js";

/** What one pass of an optimistic operation produced: its result, or a write of ours that moved the state on. */
export type Pass<T> = { done: T } | { again: true };

export const AGAIN = { again: true } as const;

export interface RetryPolicy {
  /** Lost races tolerated before giving up with a retriable CONCURRENT_TRANSACTIONS. */
  maxConflicts: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  random: () => number;
}

/** Passes that wrote and asked to run again: a group needs only a few (expire, bump, reconcile). */
const MAX_PASSES = 200;

/**
 * Runs read–decide–conditional-write passes until one completes. A pass that lost a race
 * (ConditionFailedError) backs off with full jitter, so many Lambda instances heartbeating into one
 * group spread out instead of colliding again in lockstep; a pass that wrote a step of its own
 * (say, removed an expired member) runs again at once against the new state.
 */
export async function optimistically<T>(policy: RetryPolicy, pass: () => Promise<Pass<T>>): Promise<T> {
  let conflicts = 0;
  for (let passes = 0; passes < MAX_PASSES; passes++) {
    try {
      const outcome = await pass();
      if ("done" in outcome) return outcome.done;
    } catch (e) {
      if (!(e instanceof ConditionFailedError)) throw e;
      if (++conflicts > policy.maxConflicts) {
        throw new FloeError("CONCURRENT_TRANSACTIONS", "The group is changing too fast to settle; retry.", {
          retriable: true,
          fault: "server",
          cause: e,
        });
      }
      await sleep(backoffDelay(conflicts, policy.backoffBaseMs, policy.backoffMaxMs, policy.random));
    }
  }
  throw new FloeError("CONCURRENT_TRANSACTIONS", "The group did not settle; retry.", {
    retriable: true,
    fault: "server",
  });
}
