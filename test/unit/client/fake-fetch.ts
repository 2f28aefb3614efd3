import type { FetchFn } from "../../../src/client/http-transport.js";

export interface SeenRequest {
  method: string;
  url: URL;
  body: unknown;
}

type Answer = Response | Error | Promise<Response>;

/**
 * A fetch that records each request and answers from a script, so batching and retry logic can be
 * checked as pure logic: no sockets, no clocks.
 */
export class FakeFetch {
  readonly requests: SeenRequest[] = [];
  private readonly script: ((request: SeenRequest) => Answer)[] = [];
  fallback: ((request: SeenRequest) => Answer) | undefined;

  answer(answer: (request: SeenRequest) => Answer): this {
    this.script.push(answer);
    return this;
  }

  readonly fetch: FetchFn = async (input, init) => {
    const request: SeenRequest = {
      method: init.method ?? "GET",
      url: new URL(input),
      body: typeof init.body === "string" ? JSON.parse(init.body) : undefined,
    };
    this.requests.push(request);
    const next = this.script.shift() ?? this.fallback;
    if (!next) throw new Error(`unexpected request ${request.method} ${request.url}`);
    const answer = await next(request);
    if (answer instanceof Error) throw answer;
    return answer;
  };
}

export function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

export function floeError(status: number, code: string, retriable = false): Response {
  return json(status, { error: { code, message: `injected ${code}`, retriable } });
}

/** What undici throws when nothing listens on the port. */
export function connectionRefused(): Error {
  const cause = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" });
  return new TypeError("fetch failed", { cause });
}

/** Offsets for a produce request: partition 0, counting up from `base`. */
export function offsetsFor(request: SeenRequest, base = 0): Response {
  const records = (request.body as { records: unknown[] }).records;
  return json(200, { offsets: records.map((_, i) => ({ partition: 0, offset: base + i })) });
}

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
