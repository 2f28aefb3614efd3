import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createHttpTarget, MAX_RESPONSE_BYTES } from "../../../../src/subscriptions/targets/http-target.js";
import type { DeliveryBatch, DeliveryRecord, Subscription } from "../../../../src/subscriptions/types.js";
import {
  type RecordingHttpServer,
  startRecordingHttpServer,
} from "../../../support/recording-http-server.js";
import { subscriptionWith } from "../../../support/subscription-fixture.js";

/** The HTTP target against a real node:http server; each test sets how the server answers. */

let server: RecordingHttpServer;
let baseUrl: string;

beforeAll(async () => {
  server = await startRecordingHttpServer();
  baseUrl = server.url;
});
afterEach(() => {
  server.received.length = 0;
});
afterAll(() => server.close());

const utf8 = (text: string) => new Uint8Array(Buffer.from(text, "utf8"));
const secret = `whsec_${randomBytes(32).toString("base64")}`;

function subscription(more: Partial<Subscription> = {}): Subscription {
  return subscriptionWith({
    name: "orders-hook",
    groupId: "floe-subscription-orders-hook",
    secret,
    incarnation: "3b4c0d2e-0000-4000-8000-000000000001",
    topics: ["orders-eu"],
    target: { type: "http", url: `${baseUrl}/hook`, timeoutMs: 30_000 },
    ...more,
  });
}

const records: DeliveryRecord[] = [
  {
    topic: "orders-eu",
    partition: 2,
    offset: 40,
    timestamp: 1_700_000_000_000,
    key: utf8("customer-7"),
    value: utf8('{"total":12.50,"items":[1,2]}'),
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
  {
    topic: "orders-eu",
    partition: 2,
    offset: 42,
    timestamp: 1_700_000_000_002,
    key: utf8("k"),
    value: new Uint8Array([0xff, 0x00, 0xfe]),
    headers: [],
  },
];

function batch(sub: Subscription, attempt = 1): DeliveryBatch {
  return { subscription: sub, messageId: "msg_3b4c0d2e-orders-eu-2-40-42", attempt, records };
}

function target(sub: Subscription, clock?: () => number) {
  if (sub.target.type !== "http") throw new Error("an HTTP subscription");
  return createHttpTarget(sub.target, sub, { clock });
}

const ok =
  (status = 200, body = "") =>
  (_req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(body);
  };

describe("HTTP target", () => {
  it("POSTs the signed JSON batch, records rendered as the JSON fetch API renders them", async () => {
    server.answer = ok(204);
    const sub = subscription();
    const result = await target(sub).deliver(batch(sub), new AbortController().signal);
    expect(result).toEqual({ outcome: "success" });
    expect(server.received).toHaveLength(1);
    const [req] = server.received;
    expect(req.method).toBe("POST");
    expect(req.url).toBe("/hook");
    expect(req.headers["content-type"]).toBe("application/json");
    expect(req.headers["user-agent"]).toBe("floe-subscriptions");
    expect(req.headers["webhook-id"]).toBe("msg_3b4c0d2e-orders-eu-2-40-42");
    // A second Standard Webhooks implementation accepts the signature over the bytes server.received.
    const payload = new Webhook(secret).verify(req.body, req.headers as Record<string, string>);
    expect(payload).toEqual({
      subscription: "orders-hook",
      records: [
        {
          topic: "orders-eu",
          partition: 2,
          offset: 40,
          timestamp: 1_700_000_000_000,
          key: "customer-7",
          value: { total: 12.5, items: [1, 2] },
          headers: { trace: "abc" },
        },
        {
          topic: "orders-eu",
          partition: 2,
          offset: 41,
          timestamp: 1_700_000_000_001,
          key: null,
          value: null,
          headers: {},
        },
        {
          topic: "orders-eu",
          partition: 2,
          offset: 42,
          timestamp: 1_700_000_000_002,
          key: "k",
          value: "/wD+",
          valueEncoding: "base64",
          headers: {},
        },
      ],
    });
    // The value's JSON text is spliced as stored, not re-serialised (12.50 keeps its zero).
    expect(req.body.toString("utf8")).toContain('"value":{"total":12.50,"items":[1,2]}');
    expect(
      req.body
        .toString("utf8")
        .startsWith(
          '{"subscription":"orders-hook","records":[{"topic":"orders-eu","partition":2,"offset":40,',
        ),
    ).toBe(true);
  });

  it("sends a URL's user info as HTTP Basic authorization (fetch refuses a URL that carries credentials)", async () => {
    server.answer = ok(200);
    const url = baseUrl.replace("http://", "http://hook%20user:p%40ss@");
    const sub = subscription({ target: { type: "http", url: `${url}/hook`, timeoutMs: 30_000 } });
    expect(await target(sub).deliver(batch(sub), new AbortController().signal)).toEqual({
      outcome: "success",
    });
    expect(server.received[0].url).toBe("/hook");
    expect(server.received[0].headers.authorization).toBe(
      `Basic ${Buffer.from("hook user:p@ss").toString("base64")}`,
    );
  });

  it("stamps each attempt with the clock's time, keeping the message id", async () => {
    server.answer = ok(200);
    const sub = subscription();
    let now = 1_800_000_000_500;
    const t = target(sub, () => now);
    await t.deliver(batch(sub, 1), new AbortController().signal);
    now += 61_000;
    await t.deliver(batch(sub, 2), new AbortController().signal);
    expect(server.received.map((r) => r.headers["webhook-timestamp"])).toEqual(["1800000000", "1800000061"]);
    expect(server.received.map((r) => r.headers["webhook-id"])).toEqual([
      "msg_3b4c0d2e-orders-eu-2-40-42",
      "msg_3b4c0d2e-orders-eu-2-40-42",
    ]);
    expect(server.received[0].headers["webhook-signature"]).not.toBe(
      server.received[1].headers["webhook-signature"],
    );
  });

  it("reports a partial batch from batchItemFailures, by identifier or bare offset", async () => {
    const sub = subscription();
    server.answer = ok(
      200,
      JSON.stringify({ batchItemFailures: [{ itemIdentifier: "orders-eu-2-42" }, { itemIdentifier: 41 }] }),
    );
    expect(await target(sub).deliver(batch(sub), new AbortController().signal)).toMatchObject({
      outcome: "partial",
      firstFailedOffset: 41,
    });
    server.answer = ok(200, JSON.stringify({ batchItemFailures: [{ itemIdentifier: "orders-eu-2-99" }] }));
    expect(await target(sub).deliver(batch(sub), new AbortController().signal)).toMatchObject({
      outcome: "error",
    });
  });

  it("ignores batchItemFailures when the subscription does not report them (Lambda's default)", async () => {
    const sub = subscription({ reportBatchItemFailures: false });
    server.answer = ok(200, JSON.stringify({ batchItemFailures: [{ itemIdentifier: 41 }] }));
    expect(await target(sub).deliver(batch(sub), new AbortController().signal)).toEqual({
      outcome: "success",
    });
  });

  it("fails on a non-2xx status, quoting the start of the body", async () => {
    const sub = subscription();
    server.answer = ok(500, `database down ${"x".repeat(1000)}`);
    const result = await target(sub).deliver(batch(sub), new AbortController().signal);
    expect(result.outcome).toBe("error");
    const reason = result.outcome === "error" ? result.reason : "";
    expect(reason.startsWith("HTTP 500: database down xxx")).toBe(true);
    expect(reason).toBe(`HTTP 500: ${`database down ${"x".repeat(1000)}`.slice(0, 200)}`);
  });

  it("fails on a redirect without following it", async () => {
    const sub = subscription();
    server.answer = (req, res) => {
      if (req.url === "/hook") {
        res.writeHead(307, { location: "/elsewhere" });
        res.end();
      } else ok(200)(req, res);
    };
    const result = await target(sub).deliver(batch(sub), new AbortController().signal);
    expect(result).toEqual({
      outcome: "error",
      reason: "HTTP 307: redirects are not followed (location: /elsewhere)",
    });
    expect(server.received.map((r) => r.url)).toEqual(["/hook"]);
  });

  it("fails when the endpoint does not answer within timeoutMs", async () => {
    const sub = subscription({ target: { type: "http", url: `${baseUrl}/hook`, timeoutMs: 200 } });
    server.answer = () => {}; // never answers
    const result = await target(sub).deliver(batch(sub), new AbortController().signal);
    expect(result).toEqual({ outcome: "error", reason: `POST ${baseUrl} timed out after 200 ms` });
  });

  it("fails when the caller aborts", async () => {
    const sub = subscription();
    server.answer = () => {};
    const caller = new AbortController();
    const delivery = target(sub).deliver(batch(sub), caller.signal);
    while (server.received.length === 0) await new Promise((r) => setTimeout(r, 5));
    caller.abort(new Error("dispatcher stopping"));
    expect(await delivery).toEqual({ outcome: "error", reason: `POST ${baseUrl} dispatcher stopping` });
  });

  it("fails, naming the cause, when the connection is refused", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const sub = subscription({
      target: { type: "http", url: `http://127.0.0.1:${port}/hook`, timeoutMs: 30_000 },
    });
    const result = await target(sub).deliver(batch(sub), new AbortController().signal);
    expect(result.outcome).toBe("error");
    expect(result.outcome === "error" && result.reason).toMatch(
      /^POST http:\/\/127\.0\.0\.1:\d+ failed: .*ECONNREFUSED/,
    );
  });

  it("reads at most 64 KiB of a huge response", async () => {
    const sub = subscription();
    const huge = (status: number, first: string) => (_req: IncomingMessage, res: ServerResponse) => {
      res.writeHead(status);
      res.write(first);
      // 16 MiB more than the target reads, sent only as fast as it is read.
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
    server.answer = huge(200, '{"batchItemFailures":[');
    const json = await target(sub).deliver(batch(sub), new AbortController().signal);
    expect(json).toEqual({
      outcome: "error",
      reason: `HTTP 200: the JSON response is over ${MAX_RESPONSE_BYTES} bytes, so its batchItemFailures cannot be read`,
    });
    server.answer = huge(200, "<html>");
    expect(await target(sub).deliver(batch(sub), new AbortController().signal)).toEqual({
      outcome: "success",
    });
    server.answer = huge(503, "overloaded ");
    const failed = await target(sub).deliver(batch(sub), new AbortController().signal);
    expect(failed).toEqual({ outcome: "error", reason: `HTTP 503: overloaded ${"a".repeat(189)}` });
  });

  it("refuses to send unsigned when the subscription has no secret", async () => {
    server.answer = ok(200);
    const sub = subscription({ secret: null });
    expect(await target(sub).deliver(batch(sub), new AbortController().signal)).toEqual({
      outcome: "error",
      reason: "the subscription has no signing secret",
    });
    expect(server.received).toHaveLength(0);
  });
});
