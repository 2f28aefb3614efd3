/**
 * An HTTP/1.1 client that sends exactly what it is given: the path's bytes as written (fetch
 * would resolve `/v1/topics/.` to `/v1/topics/` before sending, hiding what a hostile client can
 * send), any method, any Content-Type or none, any body bytes, with a Content-Length or (given
 * `transfer-encoding: chunked`) in chunks. For the API's fuzz tier.
 */
import { Agent, request } from "node:http";

export interface RawRequest {
  method: string;
  /** Path and query as sent, e.g. `/v1/topics/..?offset=0`. */
  path: string;
  headers: Record<string, string>;
  body?: Uint8Array;
}

export type RawOutcome =
  | { kind: "answer"; status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }
  /** No answer within the patience given: for a long-poll, the server holding it as it may. */
  | { kind: "timeout" }
  /** The connection failed (reset, closed without an answer). */
  | { kind: "error"; message: string };

export class RawHttpClient {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 4 });

  constructor(private readonly baseUrl: string) {}

  send(req: RawRequest, patienceMs: number): Promise<RawOutcome> {
    const url = new URL(this.baseUrl);
    return new Promise((resolve) => {
      let settled = false;
      const settle = (outcome: RawOutcome) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(outcome);
      };
      const headers: Record<string, string | number> = { ...req.headers };
      const chunked = req.headers["transfer-encoding"] === "chunked";
      if (req.body !== undefined && !chunked) headers["content-length"] = req.body.byteLength;
      const r = request(
        {
          host: url.hostname,
          port: url.port,
          method: req.method,
          path: req.path,
          headers,
          agent: this.agent,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () =>
            settle({
              kind: "answer",
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(chunks),
            }),
          );
          res.on("error", (e) => settle({ kind: "error", message: e.message }));
        },
      );
      const timer = setTimeout(() => {
        settle({ kind: "timeout" });
        // The server sees its caller go away, as a consumer giving up on a long-poll.
        r.destroy();
      }, patienceMs);
      r.on("error", (e) => settle({ kind: "error", message: e.message }));
      if (req.body !== undefined && chunked) {
        const half = Math.floor(req.body.byteLength / 2);
        r.write(req.body.subarray(0, half));
        r.end(req.body.subarray(half));
      } else if (req.body !== undefined) {
        r.end(req.body);
      } else {
        r.end();
      }
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
