import type { MemberRecord } from "./group-records.js";

/** Groups whose next sweep this process remembers; past it the least recently swept are forgotten. */
const DEFAULT_MAX_GROUPS = 10_000;

/**
 * When this process next reads a whole group to expire lapsed members (decision 0012). A heartbeat
 * reads only its own member item, so nobody notices another member's silence unless someone looks:
 * after reading every member item, the earliest moment any of them can expire is known (its last
 * heartbeat plus the session timeout, or its revocation deadline), and no member read later can
 * expire sooner than a session timeout after the sweep, except by a revocation deadline shorter
 * than that. So the next sweep is due at the earliest of those, capped at one session timeout; a
 * revocation this process starts lowers it. A group this process has not swept (or has forgotten)
 * is due at once. In a group of live members that is about one full read per session timeout per
 * process, against one heartbeat per member per heartbeat interval.
 */
export class ExpirySweeps {
  private readonly due = new Map<string, number>();

  constructor(
    private readonly sessionTimeoutMs: number,
    private readonly maxGroups = DEFAULT_MAX_GROUPS,
  ) {}

  isDue(groupId: string, now: number): boolean {
    const at = this.due.get(groupId);
    return at === undefined || now > at;
  }

  /** After a full read of the group at `now` that left only live members. */
  swept(groupId: string, members: Iterable<MemberRecord>, now: number): void {
    let next = now + this.sessionTimeoutMs;
    for (const m of members) next = Math.min(next, expiresAt(m, this.sessionTimeoutMs));
    // Re-inserting moves the key to the end of the map's order, which is what eviction reads.
    this.due.delete(groupId);
    this.due.set(groupId, next);
    if (this.due.size > this.maxGroups) {
      const oldest = this.due.keys().next().value;
      if (oldest !== undefined) this.due.delete(oldest);
    }
  }

  /** A member of the group now has a revocation deadline: sweep no later than it. */
  deadline(groupId: string, at: number): void {
    const current = this.due.get(groupId);
    if (current !== undefined && at < current) this.due.set(groupId, at);
  }
}

/**
 * The moment after which a member counts as expired: its session lapsed (no heartbeat within the
 * session timeout), or it still holds revoked partitions past its rebalance timeout. Kafka runs
 * timers for both; here whoever reads the member item notices.
 */
function expiresAt(m: MemberRecord, sessionTimeoutMs: number): number {
  const session = m.lastHeartbeatMs + sessionTimeoutMs;
  return m.state === "unrevoked" && m.revocationDeadline !== null
    ? Math.min(session, m.revocationDeadline)
    : session;
}

export function isExpired(m: MemberRecord, now: number, sessionTimeoutMs: number): boolean {
  return now > expiresAt(m, sessionTimeoutMs);
}
