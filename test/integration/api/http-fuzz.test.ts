/**
 * The HTTP API under hostile requests (issue 11, item 7): a property-based fuzz tier against a real
 * `floe dev` server over real HTTP. Requests are generated from the server's own OpenAPI document
 * (made from the zod schemas the routes validate with) and mutated: wrong types, out-of-range and
 * unrepresentable numbers, odd strings and keys (`.`, `..`, `__proto__`, `hasOwnProperty`, lone
 * surrogates), invalid UTF-8, nesting 100,000 deep, missing and extra fields, odd paths, query
 * values, methods and content types, malformed, truncated and oversized bodies. For every request:
 *   - no 5xx, and an answer (no dropped connection);
 *   - a refusal has a status its operation documents (or 400/404/405/413/415) and an error body
 *     with a Kafka error code of that status, at most 16 KiB however large the request;
 *   - a refusal changes nothing: the topic list, the test topics' ids, high-water marks, partition
 *     counts and configs, the group list and the test groups' committed offsets read the same
 *     before and after (read in batches: see refusal-oracle).
 * Accepted requests may do what they do. The seed is fixed, so every run sends the same requests;
 * FLOE_FUZZ_SEED=<n> explores others and FLOE_FUZZ_RUNS=<n> sends more (or fewer).
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { produceRequestFor } from "../../../src/api/schemas.js";
import type { BodyVariant, Operation, Pools } from "../../support/api-request-arbitrary.js";
import { operationsOf } from "../../support/api-request-arbitrary.js";
import { describeCase, type FuzzCase, fuzzCases } from "../../support/http-fuzz-case.js";
import { RawHttpClient } from "../../support/raw-http.js";
import { answerViolation, send, StateLedger } from "../../support/refusal-oracle.js";
import { startTestServer, type TestServer } from "./harness.js";

const SEED = Number(process.env.FLOE_FUZZ_SEED ?? 20_261_130);
/**
 * 2,000 cases: 9 s on this 2-core machine at load 3; at load 17 (other sessions' tests and benches
 * beside it) 1,000 took 37 s, hence the test's own timeout.
 */
const RUNS = Number(process.env.FLOE_FUZZ_RUNS ?? 2_000);

/**
 * Bugs this tier finds whose fixes are in flight elsewhere (issue 11): requests matching an entry
 * are not generated, so the tier guards everything else meanwhile. Each entry names the bug and a
 * minimal reproduction. Remove an entry when its fix lands; the tier then covers it again.
 */
interface KnownOpen {
  bug: string;
  repro: string;
  matches(c: FuzzCase): boolean;
}

/** Produce validates its body per encoding (the route's bodyFor); the document shows the json form. */
const VARIANTS: Record<string, BodyVariant> = {
  produce: {
    param: "encoding",
    schemas: {
      string: jsonSchemaOf(produceRequestFor.string),
      base64: jsonSchemaOf(produceRequestFor.base64),
    },
  },
};

function jsonSchemaOf(schema: z.ZodType): Record<string, unknown> {
  return z.toJSONSchema(schema, { io: "input", unrepresentable: "any", target: "draft-2020-12" }) as Record<
    string,
    unknown
  >;
}

const POOLS: Pools = { topics: ["fuzz-a", "fuzz-b", "fuzz-c"], groups: ["fuzz-g", "fuzz-h"] };

/** The topic a request's path names, decoded as the router decodes it; undefined when it names none. */
function pathTopic(c: FuzzCase): string | undefined {
  const segment = /^\/v1\/topics\/([^/?]+)/.exec(c.request.path)?.[1];
  if (segment === undefined) return undefined;
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** None open: the last (a refused produce auto-created its topic) was fixed in 5467d4f. */
const KNOWN_OPEN: KnownOpen[] = [];

/** The subscription a request's path names, decoded as the router decodes it; undefined when it names none. */
function pathSubscription(c: FuzzCase): string | undefined {
  const segment = /^\/v1\/subscriptions\/([^/?]+)\/?(?:\?|$)/.exec(c.request.path)?.[1];
  if (segment === undefined) return undefined;
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/**
 * The test's topics and subscriptions stay (a generator choice, not a known bug): with them
 * deleted, every later request would meet a missing one and the tier would reach little state.
 * Deleting a subscription is covered by test/integration/api/subscription-routes.test.ts.
 */
function deletesFixture(c: FuzzCase): boolean {
  if (c.request.method !== "DELETE") return false;
  if (POOLS.topics.includes(pathSubscription(c) ?? "")) return true;
  return POOLS.topics.includes(pathTopic(c) ?? "") && !/^\/v1\/topics\/[^/?]+\/./.test(c.request.path);
}

describe("HTTP API under hostile requests (fuzz)", () => {
  let server: TestServer;
  let client: RawHttpClient;
  let operations: Operation[];
  let document: Record<string, unknown>;

  beforeAll(async () => {
    // No dispatcher: subscriptions the tier creates name generated URLs, which nothing should be sent to.
    server = await startTestServer("embedded", { subscriptions: false });
    client = new RawHttpClient(server.url);
    const created = await Promise.all([
      server.call("POST", "/v1/topics", { name: "fuzz-a", partitions: 3 }),
      server.call("POST", "/v1/topics", { name: "fuzz-b", partitions: 1 }),
      server.call("POST", "/v1/topics", {
        name: "fuzz-c",
        partitions: 2,
        config: { "cleanup.policy": "compact" },
      }),
    ]);
    expect(created.map((r) => r.status)).toEqual([201, 201, 201]);
    for (const topic of POOLS.topics) {
      const records = Array.from({ length: 12 }, (_, i) => ({ key: `k${i % 4}`, value: { i } }));
      expect((await server.call("POST", `/v1/topics/${topic}/records`, { records })).status).toBe(200);
    }
    for (const group of POOLS.groups) {
      const offsets = [{ topic: "fuzz-a", partition: 0, offset: 2 }];
      expect((await server.call("POST", `/v1/groups/${group}/offsets`, { offsets })).status).toBe(200);
    }
    // Subscriptions named like the pool's topics (the generator's names for {name}), so changes,
    // descriptions and deletions meet ones that exist, not only 404s.
    for (const topic of POOLS.topics) {
      const subscription = {
        name: topic,
        topics: [topic],
        target: { type: "http", url: "http://127.0.0.1:9/" },
      };
      expect((await server.call("POST", "/v1/subscriptions", subscription)).status).toBe(201);
    }
    const openapi = await server.call("GET", "/v1/openapi.json");
    expect(openapi.status).toBe(200);
    document = openapi.body;
    operations = operationsOf(document);
  });

  afterAll(async () => {
    client?.close();
    await server?.close();
  });

  it("answers every request without a 5xx, refuses with a documented status and error code, and a refusal changes nothing", async () => {
    const ledger = new StateLedger(client, POOLS, operations);
    const statuses = new Map<number, number>();
    let cases = 0;
    let skipped = 0;
    const arbitrary = fuzzCases(document, POOLS, VARIANTS).filter((c) => {
      if (deletesFixture(c)) return false;
      const known = KNOWN_OPEN.some((k) => k.matches(c));
      if (known) skipped++;
      return !known;
    });
    console.log(`HTTP fuzz: seed ${SEED}, ${RUNS} runs (FLOE_FUZZ_SEED / FLOE_FUZZ_RUNS to change)`);
    await fc.assert(
      fc.asyncProperty(arbitrary, async (c) => {
        const earlier = await ledger.before(c);
        if (earlier) throw new Error(earlier);
        cases++;
        const answer = await send(client, operations, c);
        const changed = await ledger.after(c, answer);
        if (changed) throw new Error(changed);
        const status = answer.outcome.kind === "answer" ? answer.outcome.status : 0;
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        const violation = answerViolation(c, answer);
        if (violation) throw new Error(`${violation}\n${describeCase(c)}`);
      }),
      { seed: SEED, numRuns: RUNS },
    );
    const last = await ledger.flush();
    if (last) throw new Error(last);
    const byStatus = [...statuses].sort(([a], [b]) => a - b).map(([s, n]) => `${s || "held"}: ${n}`);
    console.log(
      `HTTP fuzz: ${cases} requests sent (${skipped} generated and skipped as KNOWN_OPEN), ${ledger.reads} state reads, ${ledger.replays} refusals sent again; by status ${byStatus.join(", ")}`,
    );
  }, 300_000);
});
