/**
 * A request body over the 6 MiB limit against a real `floe dev` HTTP server: the client gets 413
 * MESSAGE_TOO_LARGE with an error body, the connection is closed, nothing is written, and close()
 * returns. It once read on to 64 MiB, then reset the connection without an answer and left the
 * request in flight forever, so close() never returned.
 */
import { type IncomingHttpHeaders, request } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { MAX_BODY_BYTES } from "../../../src/api/schemas.js";
import { type DevServer, startDevServer } from "../../../src/server/dev-server.js";

interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

const CHUNK = Buffer.alloc(256 * 1024, 0x20);

/**
 * POSTs `total` bytes (declared in Content-Length, or chunked) and stops sending once an answer
 * arrives, as curl and browsers do; `abortAfter` gives up after that many bytes instead.
 */
function post(
  url: string,
  options: { total: number; chunked?: boolean; abortAfter?: number },
): Promise<RawAnswer | "reset"> {
  return new Promise((resolve) => {
    let answered = false;
    const req = request(`${url}/v1/topics/big/records`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(options.chunked ? {} : { "content-length": String(options.total) }),
      },
    });
    req.on("response", (res) => {
      answered = true;
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
        req.destroy();
      });
      res.on("error", () => resolve("reset"));
    });
    req.on("error", () => {
      if (!answered) resolve("reset");
    });
    void (async () => {
      let sent = 0;
      while (sent < options.total && !answered && !req.destroyed) {
        if (options.abortAfter !== undefined && sent >= options.abortAfter) {
          req.destroy();
          resolve("reset");
          return;
        }
        const chunk = CHUNK.subarray(0, Math.min(CHUNK.length, options.total - sent));
        sent += chunk.length;
        if (!req.write(chunk)) {
          await new Promise<void>((drained) => {
            const done = () => {
              req.off("drain", done);
              req.off("close", done);
              req.off("response", done);
              drained();
            };
            req.on("drain", done);
            req.on("close", done);
            req.on("response", done);
          });
        }
      }
      if (!answered && !req.destroyed) req.end();
    })();
  });
}

function expectTooLarge(answer: RawAnswer | "reset"): void {
  expect(answer).not.toBe("reset");
  const { status, headers, body } = answer as RawAnswer;
  expect(status).toBe(413);
  expect(headers.connection).toBe("close");
  const error = JSON.parse(body).error;
  expect(error.code).toBe("MESSAGE_TOO_LARGE");
  expect(error.message).toContain(String(MAX_BODY_BYTES));
  expect(error.retriable).toBe(false);
}

describe("floe dev: a body over the limit", () => {
  let server: DevServer | undefined;
  afterEach(async () => {
    // The regression: this never returned once a request had been cut off mid-body.
    await server?.close();
    server = undefined;
  });

  async function start(): Promise<DevServer> {
    server = await startDevServer({ port: 0, storage: "memory", log: () => {}, maintenanceIntervalMs: 0 });
    return server;
  }

  async function topics(s: DevServer): Promise<string[]> {
    return ((await (await fetch(`${s.url}/v1/topics`)).json()) as { topics: string[] }).topics;
  }

  it.each([
    ["declared just over the limit", { total: MAX_BODY_BYTES + 1 }],
    ["declared far over the drain limit", { total: 80 * 1024 * 1024 }],
    ["chunked past the limit", { total: 8 * 1024 * 1024, chunked: true }],
    ["chunked far over the drain limit", { total: 80 * 1024 * 1024, chunked: true }],
  ])("%s: 413 MESSAGE_TOO_LARGE, connection closed, nothing written", async (_, options) => {
    const s = await start();
    expectTooLarge(await post(s.url, options));
    // The server goes on answering, and the refused request created nothing (floe dev auto-creates topics).
    expect(await topics(s)).toEqual([]);
  });

  it("a client that gives up mid-body leaves nothing in flight: close() returns", async () => {
    const s = await start();
    expect(await post(s.url, { total: 80 * 1024 * 1024, chunked: true, abortAfter: 1024 * 1024 })).toBe(
      "reset",
    );
    expect(await post(s.url, { total: 1024 * 1024, abortAfter: 512 * 1024 })).toBe("reset");
    expect(await topics(s)).toEqual([]);
  });
});
