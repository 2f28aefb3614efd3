/**
 * What a refused request must leave unchanged, read over the HTTP API: the topic list, the test
 * topics' ids, partition counts, high-water marks and config overrides, the group list and the
 * test groups' committed offsets of the test topics. Time-driven state (members expiring, retention moving a log
 * start, leases) is left out, so two reads with nothing sent in between are equal.
 */
import type { RawHttpClient } from "./raw-http.js";

/** A path segment as the router decodes it; `.` encoded too, so no client resolves it as a dot segment. */
export function pathSegment(value: string): string {
  return encodeURIComponent(value).replace(/\./g, "%2E");
}

export interface StateScope {
  topics: readonly string[];
  groups: readonly string[];
}

const PATIENCE_MS = 30_000;

async function read(client: RawHttpClient, path: string): Promise<unknown> {
  const outcome = await client.send({ method: "GET", path, headers: {} }, PATIENCE_MS);
  if (outcome.kind !== "answer") return { failed: outcome.kind };
  const text = outcome.body.toString("utf8");
  if (outcome.status !== 200) return { status: outcome.status, body: text };
  return JSON.parse(text);
}

interface TopicBody {
  topicId: string;
  partitions: { partition: number; highWatermark: number }[];
  configOverrides: Record<string, unknown>;
}

interface OffsetsBody {
  offsets: { topic: string; partition: number; offset: number; metadata: string }[];
}

/** The state as canonical JSON text: equal texts, equal state. */
export async function captureState(client: RawHttpClient, scope: StateScope): Promise<string> {
  const [topicList, groupList, subscriptions, topics, offsets] = await Promise.all([
    read(client, "/v1/topics"),
    read(client, "/v1/groups"),
    read(client, "/v1/subscriptions"),
    Promise.all(scope.topics.map((t) => read(client, `/v1/topics/${pathSegment(t)}`))),
    Promise.all(scope.groups.map((g) => read(client, `/v1/groups/${pathSegment(g)}/offsets`))),
  ]);
  const state = {
    topicList,
    groups: ((groupList as { groups?: { groupId: string }[] }).groups ?? []).map((g) => g.groupId).sort(),
    // Definitions only: delivery stats move on the dispatcher's clock, not the requests'.
    subscriptions,
    topics: Object.fromEntries(
      scope.topics.map((name, i) => {
        const t = topics[i] as TopicBody;
        if (!Array.isArray(t.partitions)) return [name, t];
        return [
          name,
          {
            topicId: t.topicId,
            highWatermarks: t.partitions.map((p) => p.highWatermark),
            configOverrides: sortedEntries(t.configOverrides),
          },
        ];
      }),
    ),
    offsets: Object.fromEntries(
      scope.groups.map((g, i) => {
        const o = offsets[i] as OffsetsBody;
        if (!Array.isArray(o.offsets)) return [g, o];
        // Only the test topics' offsets: another topic's may be deleted by an accepted request, and
        // its offsets then go with maintenance, on its own clock.
        const kept = o.offsets.filter((c) => scope.topics.includes(c.topic));
        return [g, kept.map((c) => [c.topic, c.partition, c.offset, c.metadata])];
      }),
    ),
  };
  return JSON.stringify(state);
}

function sortedEntries(record: Record<string, unknown>): [string, unknown][] {
  return Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Where two captured states first differ, for a failure message. */
export function stateDifference(before: string, after: string): string {
  const a = JSON.parse(before) as Record<string, unknown>;
  const b = JSON.parse(after) as Record<string, unknown>;
  const out: string[] = [];
  for (const part of Object.keys(a)) {
    const x = a[part] as Record<string, unknown>;
    const y = b[part] as Record<string, unknown>;
    if (JSON.stringify(x) === JSON.stringify(y)) continue;
    if (x && y && typeof x === "object" && !Array.isArray(x)) {
      for (const key of new Set([...Object.keys(x), ...Object.keys(y)])) {
        if (JSON.stringify(x[key]) !== JSON.stringify(y[key])) {
          out.push(`${part}.${key}: ${JSON.stringify(x[key])} -> ${JSON.stringify(y[key])}`);
        }
      }
    } else {
      out.push(`${part}: ${JSON.stringify(x)} -> ${JSON.stringify(y)}`);
    }
  }
  return out.join("; ").slice(0, 2000);
}
