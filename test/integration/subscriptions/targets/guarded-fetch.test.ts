import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { Webhook } from "standardwebhooks";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { guardedFetch } from "../../../../src/subscriptions/targets/guarded-fetch.js";
import { createHttpTarget, MAX_RESPONSE_BYTES } from "../../../../src/subscriptions/targets/http-target.js";
import type { DeliveryBatch, DeliveryRecord, Subscription } from "../../../../src/subscriptions/types.js";
import {
  type RecordingHttpServer,
  startRecordingHttpServer,
} from "../../../support/recording-http-server.js";
import { subscriptionWith } from "../../../support/subscription-fixture.js";

/**
 * guarded-fetch.ts against a real node:http server on 127.0.0.1: refused by default (as an IP
 * literal and through a hostname's lookup) before anything reaches the server; with loopback
 * allowed, a fetch as http-target.ts uses it, and the HTTP target's behaviour unchanged over it.
 */

let server: RecordingHttpServer;
let port: number;

beforeAll(async () => {
  server = await startRecordingHttpServer();
  port = server.port;
});
afterEach(() => {
  server.received.length = 0;
});
afterAll(() => server.close());

const ok =
  (status = 200, body = "", headers: Record<string, string> = {}) =>
  (_req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(status, { "content-type": "application/json", ...headers });
    res.end(body);
  };

const loopbackAllowed = guardedFetch({ isDenied: (ip) => ip !== "127.0.0.1" && ip !== "::1" });

function post(fetcher: typeof fetch, url: string, init: RequestInit = {}): Promise<Response> {
  return fetcher(url, {
    method: "POST",
    headers: { "content-type": "application/json", "x-trace": "abc" },
    body: Buffer.from('{"hello":"world"}'),
    redirect: "manual",
    ...init,
  });
}

/** What a rejected promise rejected with. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  throw new Error("expected a rejection");
}

describe("guardedFetch with the default policy", () => {
  it("refuses an IP literal on loopback before connecting", async () => {
    server.answer = ok(200);
    const before = server.connections;
    const error = await rejection(post(guardedFetch(), `http://127.0.0.1:${port}/`));
    expect((error as Error).message).toBe(
      "refused to connect to 127.0.0.1 (a private address); set FLOE_SUBSCRIPTION_PRIVATE_TARGETS=allow to allow it",
    );
    expect(server.connections).toBe(before);
    expect(server.received).toEqual([]);
  });

  it("refuses a hostname that resolves to loopback, from its lookup, before connecting", async () => {
    server.answer = ok(200);
    const before = server.connections;
    const error = await rejection(post(guardedFetch(), `http://localhost:${port}/`));
    expect((error as Error).message).toMatch(
      /^refused to connect to localhost at (127\.0\.0\.1|::1) \(a private address\); set FLOE_SUBSCRIPTION_PRIVATE_TARGETS=allow to allow it$/,
    );
    expect(server.connections).toBe(before);
    expect(server.received).toEqual([]);
  });

  it("refuses the IPv4-mapped and bracketed IPv6 forms of loopback", async () => {
    const fetcher = guardedFetch();
    for (const host of ["[::ffff:127.0.0.1]", "[::1]", "0.0.0.0"]) {
      const error = await rejection(post(fetcher, `http://${host}:${port}/`));
      expect((error as Error).message, host).toMatch(/^refused to connect to /);
    }
    expect(server.received).toEqual([]);
  });
});

describe("guardedFetch with loopback allowed", () => {
  it("POSTs the body and headers and answers a Response with the status, headers and body", async () => {
    server.answer = (req, res, body) => {
      res.writeHead(201, { "content-type": "application/json", "x-echo": String(req.headers["x-trace"]) });
      res.end(JSON.stringify({ got: JSON.parse(body.toString()) }));
    };
    const response = await post(loopbackAllowed, `http://127.0.0.1:${port}/hook?x=1`);
    expect(response.status).toBe(201);
    expect(response.ok).toBe(true);
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(response.headers.get("x-echo")).toBe("abc");
    expect(await response.json()).toEqual({ got: { hello: "world" } });
    expect(server.received).toHaveLength(1);
    expect(server.received[0]).toMatchObject({ method: "POST", url: "/hook?x=1" });
    expect(server.received[0].headers["content-type"]).toBe("application/json");
    expect(server.received[0].headers["content-length"]).toBe("17");
    expect(server.received[0].body.toString()).toBe('{"hello":"world"}');
  });

  it("resolves a hostname through the vetting lookup and connects", async () => {
    server.answer = ok(200, "{}");
    // Node tries each address localhost has (autoSelectFamily): the server on 127.0.0.1 answers.
    const response = await post(loopbackAllowed, `http://localhost:${port}/`);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("{}");
    expect(server.received).toHaveLength(1);
  });

  it("returns a 3xx as it came instead of following it", async () => {
    server.answer = (req, res) => {
      if (req.url === "/hook") {
        res.writeHead(307, { location: "/elsewhere" });
        res.end();
      } else ok(200)(req, res);
    };
    const response = await post(loopbackAllowed, `http://127.0.0.1:${port}/hook`);
    expect(response.status).toBe(307);
    expect(response.headers.get("location")).toBe("/elsewhere");
    expect(server.received.map((r) => r.url)).toEqual(["/hook"]);
  });

  it("answers a bodiless status with a null body", async () => {
    server.answer = ok(204);
    const response = await post(loopbackAllowed, `http://127.0.0.1:${port}/`);
    expect(response.status).toBe(204);
    expect(response.body).toBeNull();
  });

  it("rejects with the signal's reason when aborted before the answer, or while the body streams", async () => {
    server.answer = () => {}; // never answers
    const caller = new AbortController();
    const pending = post(loopbackAllowed, `http://127.0.0.1:${port}/`, { signal: caller.signal });
    while (server.received.length === 0) await new Promise((r) => setTimeout(r, 5));
    const reason = new Error("dispatcher stopping");
    caller.abort(reason);
    expect(await rejection(pending)).toBe(reason);

    server.answer = (_req, res) => {
      res.writeHead(200);
      res.write("first part");
    };
    const streaming = new AbortController();
    const response = await post(loopbackAllowed, `http://127.0.0.1:${port}/`, { signal: streaming.signal });
    const reader = response.body!.getReader();
    expect(Buffer.from((await reader.read()).value!).toString()).toBe("first part");
    streaming.abort(reason);
    expect(await rejection(reader.read())).toBe(reason);
  });

  it("sends nothing when the signal is already aborted", async () => {
    const reason = new Error("too late");
    expect(
      await rejection(
        post(loopbackAllowed, `http://127.0.0.1:${port}/`, { signal: AbortSignal.abort(reason) }),
      ),
    ).toBe(reason);
    expect(server.received).toEqual([]);
  });
});

describe("the HTTP target over guardedFetch", () => {
  const secret = `whsec_${randomBytes(32).toString("base64")}`;
  const utf8 = (text: string) => new Uint8Array(Buffer.from(text, "utf8"));
  const records: DeliveryRecord[] = [
    {
      topic: "orders-eu",
      partition: 2,
      offset: 40,
      timestamp: 1_700_000_000_000,
      key: utf8("customer-7"),
      value: utf8('{"total":12.50}'),
      headers: [{ key: "trace", value: utf8("abc") }],
    },
    {
      topic: "orders-eu",
      partition: 2,
      offset: 41,
      timestamp: 1_700_000_000_001,
      key: null,
      value: null,
      headers: [],
    },
  ];

  function subscription(host = "127.0.0.1"): Subscription {
    return subscriptionWith({
      name: "orders-hook",
      groupId: "floe-subscription-orders-hook",
      secret,
      topics: ["orders-eu"],
      target: { type: "http", url: `http://${host}:${port}/hook`, timeoutMs: 30_000 },
    });
  }

  function deliver(fetcher: typeof fetch, sub = subscription()) {
    if (sub.target.type !== "http") throw new Error("an HTTP subscription");
    const batch: DeliveryBatch = {
      subscription: sub,
      messageId: "msg_1-orders-eu-2-40-41",
      attempt: 1,
      records,
    };
    return createHttpTarget(sub.target, sub, { fetch: fetcher }).deliver(batch, new AbortController().signal);
  }

  it("delivers a signed batch the receiver verifies, and reads batchItemFailures", async () => {
    server.answer = ok(200, JSON.stringify({ batchItemFailures: [{ itemIdentifier: "orders-eu-2-41" }] }));
    expect(await deliver(loopbackAllowed)).toMatchObject({ outcome: "partial", firstFailedOffset: 41 });
    expect(server.received).toHaveLength(1);
    const payload = new Webhook(secret).verify(
      server.received[0].body,
      server.received[0].headers as Record<string, string>,
    );
    expect(payload).toMatchObject({ subscription: "orders-hook", records: [{ offset: 40 }, { offset: 41 }] });
  });

  it("fails a redirect and a non-2xx as over the global fetch", async () => {
    server.answer = ok(307, "", { location: "/elsewhere" });
    expect(await deliver(loopbackAllowed)).toEqual({
      outcome: "error",
      reason: "HTTP 307: redirects are not followed (location: /elsewhere)",
    });
    server.answer = ok(500, "database down");
    expect(await deliver(loopbackAllowed)).toEqual({ outcome: "error", reason: "HTTP 500: database down" });
  });

  it("reads at most 64 KiB of a huge response", async () => {
    server.answer = (_req, res) => {
      res.writeHead(200);
      res.write('{"batchItemFailures":[');
      const chunk = Buffer.alloc(64 * 1024, "a");
      let left = 256;
      const more = () => {
        while (left > 0) {
          left--;
          if (!res.write(chunk)) return void res.once("drain", more);
        }
        res.end();
      };
      res.on("error", () => {});
      more();
    };
    expect(await deliver(loopbackAllowed)).toEqual({
      outcome: "error",
      reason: `HTTP 200: the JSON response is over ${MAX_RESPONSE_BYTES} bytes, so its batchItemFailures cannot be read`,
    });
  });

  it("fails with the refusal as its reason when the address is private", async () => {
    server.answer = ok(200);
    expect(await deliver(guardedFetch())).toEqual({
      outcome: "error",
      reason: `POST http://127.0.0.1:${port} failed: refused to connect to 127.0.0.1 (a private address); set FLOE_SUBSCRIPTION_PRIVATE_TARGETS=allow to allow it`,
    });
    const viaName = await deliver(guardedFetch(), subscription("localhost"));
    expect(viaName.outcome === "error" && viaName.reason).toMatch(
      new RegExp(`^POST http://localhost:${port} failed: refused to connect to localhost at `),
    );
    expect(server.received).toEqual([]);
  });
});
