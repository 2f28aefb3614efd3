/**
 * What the consumer-group tests check: with real Kafka clients against `floe dev` over its HTTP
 * API, that a group settled, that its members split the partitions, and that every record was
 * read once by the member owning its partition; with Floe's own client (locally or on the
 * deployed stack), that a group stopped having read every record once, in order.
 */
import { expect } from "vitest";
import type { Consumer } from "../../src/client/consumer.js";
import type { GroupDescription } from "../../src/groups/types.js";
import type { GroupProbe } from "../integration/groups/consumer-probe.js";

/** How long a condition may take to come true (a group settling, a record arriving): a wait, not an assertion on speed. */
export const PATIENCE_MS = 30_000;

export async function eventually(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + PATIENCE_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The group as `GET /v1/groups/{g}` describes it, or undefined when it does not exist. */
export async function describeGroup(url: string, groupId: string): Promise<GroupDescription | undefined> {
  const res = await fetch(`${url}/v1/groups/${groupId}`);
  return res.status === 200 ? ((await res.json()) as GroupDescription) : undefined;
}

/** Every member owns exactly its target and nothing is being revoked: the coordinator's view of stable. */
export async function coordinatorStable(url: string, groupId: string, members: number): Promise<boolean> {
  const group = await describeGroup(url, groupId);
  if (!group || group.members.length !== members) return false;
  const key = (tps: { topic: string; partitions: number[] }[]) =>
    tps
      .flatMap((tp) => tp.partitions.map((p) => `${tp.topic}:${p}`))
      .sort()
      .join(",");
  return group.members.every(
    (m) => key(m.assignment) === key(m.targetAssignment) && m.pendingRevocation.length === 0,
  );
}

/** Whether the members' assignments are disjoint and together cover partitions 0..n-1. */
export function splitsExactly(assignments: number[][], partitions: number): boolean {
  const all = assignments.flat();
  return new Set(all).size === all.length && all.length === partitions;
}

/**
 * Waits until every member has finished two fetches from now. A client may deliver the answer to a
 * fetch it sent while it still owned a partition (KafkaJS and @platformatic/kafka both push what an
 * in-flight fetch returns), as it would against Kafka; the second fetch began after the first
 * ended, so from then on a member fetches only what it owns now.
 */
export async function fetchedTwiceSince(fetches: () => number[]): Promise<void> {
  const start = fetches();
  await eventually("every member fetched twice", () => fetches().every((n, i) => n >= start[i] + 2));
}

/** Each value read exactly once, by the member that owned its partition. */
export function expectEachOnceBy(
  values: string[],
  seen: Map<string, { by: string; partition: number }[]>,
  members: { name: string; assigned: number[] }[],
): void {
  for (const value of values) {
    const deliveries = seen.get(value) ?? [];
    expect(deliveries, `${value}: ${JSON.stringify(deliveries)}`).toHaveLength(1);
    const [{ by, partition }] = deliveries;
    expect(members.find((m) => m.name === by)?.assigned).toContain(partition);
  }
}

/**
 * Stops the members (each commits and leaves), then checks what `probe` saw: every record `source`
 * produced delivered exactly once, in key order, never to two owners at a time, and each member of
 * `names` read some of them.
 */
export async function expectStoppedGroupReadEachOnce(
  members: Consumer[],
  probe: GroupProbe,
  source: { produced: number },
  names: string[],
): Promise<void> {
  await Promise.all(members.map((c) => c.stop()));
  expect(probe.deliveries).toHaveLength(source.produced);
  expect([...probe.deliveryCounts().values()].every((n) => n === 1)).toBe(true);
  probe.expectPerKeyOrder();
  probe.expectNeverTwoOwners();
  expect(new Set(probe.deliveries.map((d) => d.member))).toEqual(new Set(names));
}
