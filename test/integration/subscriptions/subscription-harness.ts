/**
 * What the push-subscription end-to-end tests share (issue 14): a real `floe dev` base URL, topics
 * and subscriptions made through the HTTP API as a user makes them, records produced over HTTP, the
 * subscription's status and its consumer group read back over HTTP, and the checks on what a
 * WebhookTarget accepted: each record once, in offset order per partition, in order per key.
 */
import { afterAll, beforeAll, expect } from "vitest";
import { type JsonBody, startTestServer, type TestServer } from "../api/harness.js";
import { type WebhookRecord, WebhookTarget } from "../../support/webhook-target.js";

/** A `floe dev` (embedded backend) for a test file, and the webhook targets its tests start. */
export interface FloeWithTargets {
  /** The server's base URL (once the file's beforeAll has run). */
  readonly url: string;
  /** Starts a webhook target, closed with the server after the file's tests. */
  startTarget(options?: Parameters<typeof WebhookTarget.start>[0]): Promise<WebhookTarget>;
}

/** Registers the file's beforeAll (start floe dev) and afterAll (close its targets, then it). */
export function floeWithTargets(): FloeWithTargets {
  let server: TestServer | undefined;
  const targets: WebhookTarget[] = [];
  beforeAll(async () => {
    server = await startTestServer("embedded");
  });
  afterAll(async () => {
    await Promise.all(targets.map((t) => t.close()));
    await server?.close();
  });
  return {
    get url() {
      if (!server) throw new Error("floe dev is not started yet (use it inside a test)");
      return server.url;
    },
    async startTarget(options) {
      const target = await WebhookTarget.start(options);
      targets.push(target);
      return target;
    },
  };
}

async function call(base: string, method: string, path: string, body?: unknown) {
  const res = await fetch(base + path, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as JsonBody };
}

/** The call must answer `status`; its body otherwise, with the answer in the failure message. */
export async function expectCall(
  base: string,
  method: string,
  path: string,
  body: unknown,
  status: number,
): Promise<JsonBody> {
  const res = await call(base, method, path, body);
  expect(res.status, `${method} ${path} answered ${JSON.stringify(res.body)}`).toBe(status);
  return res.body;
}

export async function createTopic(base: string, name: string, partitions: number): Promise<void> {
  await expectCall(base, "POST", "/v1/topics", { name, partitions }, 201);
}

/** POST /v1/subscriptions; the created subscription (with its secret). */
export async function createSubscription(base: string, input: Record<string, unknown>): Promise<JsonBody> {
  return expectCall(base, "POST", "/v1/subscriptions", input, 201);
}

/** GET /v1/subscriptions/{name}: the definition with `status`. */
export async function describeSubscription(base: string, name: string): Promise<JsonBody> {
  return expectCall(base, "GET", `/v1/subscriptions/${name}`, undefined, 200);
}

export async function setState(base: string, name: string, state: "Enabled" | "Disabled"): Promise<void> {
  await expectCall(base, "PATCH", `/v1/subscriptions/${name}`, { state }, 200);
}

/** The subscription's consumer group as `GET /v1/groups/{group}` describes it. */
export async function describeGroupOf(base: string, name: string): Promise<JsonBody> {
  return expectCall(base, "GET", `/v1/groups/floe-subscription-${name}`, undefined, 200);
}

export interface Produced {
  key: string;
  /** The record's place among its key's records, from 0. */
  seq: number;
  partition: number;
  offset: number;
}

/**
 * Produces `count` records keyed `k{i % keys}` with JSON values `{key, seq, pad}` (seq: the record's
 * place among its key's records), in requests of `perRequest`, and returns where each landed.
 */
export async function produceKeyed(
  base: string,
  topic: string,
  count: number,
  options: {
    keys?: number;
    perRequest?: number;
    first?: number;
    headers?: (i: number) => Record<string, string>;
  } = {},
): Promise<Produced[]> {
  const keys = options.keys ?? 16;
  const perRequest = options.perRequest ?? 100;
  const first = options.first ?? 0;
  const produced: Produced[] = [];
  for (let start = first; start < first + count; start += perRequest) {
    const batch = Array.from({ length: Math.min(perRequest, first + count - start) }, (_, j) => {
      const i = start + j;
      return { key: `k${i % keys}`, seq: Math.floor(i / keys), i };
    });
    const body = await expectCall(
      base,
      "POST",
      `/v1/topics/${topic}/records`,
      {
        records: batch.map(({ key, seq, i }) => ({
          key,
          value: { key, seq },
          headers: options.headers?.(i) ?? undefined,
        })),
      },
      200,
    );
    for (const [j, { partition, offset }] of (
      body.offsets as { partition: number; offset: number }[]
    ).entries()) {
      produced.push({ key: batch[j].key, seq: batch[j].seq, partition, offset });
    }
  }
  return produced;
}

/**
 * Resolves once `check` holds, checked every 50 ms: a wait for a condition, never a timed assertion.
 * `detail` says what was last seen, for the message when it never holds.
 */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 45_000,
  detail?: () => unknown,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) {
      throw new Error(
        `timed out waiting until ${what}${detail ? `; last seen: ${JSON.stringify(detail())}` : ""}`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until the subscription's status satisfies `check`; the last status seen is in the failure. */
export async function waitForStatus(
  base: string,
  name: string,
  what: string,
  check: (status: JsonBody) => boolean,
): Promise<JsonBody> {
  let last: JsonBody;
  await waitFor(
    what,
    async () => check((last = (await describeSubscription(base, name)).status)),
    45_000,
    () => ({ ...last, partitions: undefined }),
  );
  return last;
}

/** Total lag of the subscription's group: 0 once every committed offset reached its high-water mark. */
export async function groupLag(base: string, name: string): Promise<number> {
  const group = await describeGroupOf(base, name);
  return (group.offsets as { lag: number }[]).reduce((sum, o) => sum + o.lag, 0);
}

/**
 * Waits until `done` holds — or the subscription's group has committed everything (lag 0), after
 * which nothing more would come: the checks that follow then name what was skipped instead of a
 * wait running out.
 */
export async function untilDelivered(
  base: string,
  name: string,
  what: string,
  done: () => boolean,
): Promise<void> {
  await waitFor(what, async () => done() || (await groupLag(base, name)) === 0);
}

const where = (r: { topic?: string; partition: number; offset: number }) => `${r.partition}@${r.offset}`;

/** Every produced record accepted exactly once, and nothing else accepted. */
export function expectEachOnce(
  accepted: WebhookRecord[],
  produced: { partition: number; offset: number }[],
): void {
  const counts = new Map<string, number>();
  for (const r of accepted) counts.set(where(r), (counts.get(where(r)) ?? 0) + 1);
  const twice = [...counts].filter(([, n]) => n > 1).map(([w]) => w);
  expect(twice, "records accepted more than once").toEqual([]);
  const missing = produced.filter((p) => !counts.has(where(p))).map(where);
  expect(missing, "records never accepted").toEqual([]);
  expect(accepted).toHaveLength(produced.length);
}

/** Every produced record accepted at least once (redelivery allowed, as across a crash). */
export function expectEachAtLeastOnce(
  accepted: WebhookRecord[],
  produced: { partition: number; offset: number }[],
): void {
  const seen = new Set(accepted.map(where));
  expect(produced.filter((p) => !seen.has(where(p))).map(where), "records never accepted").toEqual([]);
}

/** Each partition's accepted offsets strictly increase in arrival order. */
export function expectOffsetOrder(accepted: WebhookRecord[]): void {
  const last = new Map<string, number>();
  for (const r of accepted) {
    const p = `${r.topic}/${r.partition}`;
    const before = last.get(p);
    if (before !== undefined && r.offset <= before) {
      expect.fail(`${p}: offset ${r.offset} accepted after ${before}`);
    }
    last.set(p, r.offset);
  }
}

/** Each key's accepted `seq` values strictly increase in arrival order. */
export function expectKeyOrder(accepted: WebhookRecord[]): void {
  const last = new Map<string, number>();
  for (const r of accepted) {
    const { key, seq } = r.value as { key: string; seq: number };
    expect(r.key).toBe(key);
    const before = last.get(key);
    if (before !== undefined && seq <= before) expect.fail(`key ${key}: seq ${seq} accepted after ${before}`);
    last.set(key, seq);
  }
}
