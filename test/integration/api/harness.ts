/**
 * A real `floe dev` HTTP server in-process, per storage, and a small fetch-based client for the
 * API tests. Embedded servers get a temp data dir, removed on close.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { type DevServer, startDevServer } from "../../../src/server/dev-server.js";

export type ApiStorage = "memory" | "embedded";
export const apiStorages: ApiStorage[] = ["memory", "embedded"];

/** Response bodies are asserted field by field (and parsed with the API's zod schemas where the shape matters). */
// biome-ignore lint/suspicious/noExplicitAny: a test reads whatever JSON the server sent
export type JsonBody = any;

export interface ApiResponse<T = JsonBody> {
  status: number;
  headers: Headers;
  body: T;
}

export interface TestServer {
  url: string;
  server: DevServer;
  dataDir?: string;
  call<T = JsonBody>(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<ApiResponse<T>>;
  raw(
    method: string,
    path: string,
    body: string | Uint8Array,
    headers?: Record<string, string>,
  ): Promise<ApiResponse>;
  close(): Promise<void>;
}

async function parse(res: Response): Promise<ApiResponse> {
  const text = await res.text();
  let body: unknown = text;
  if ((res.headers.get("content-type") ?? "").includes("json") && text !== "") body = JSON.parse(text);
  return { status: res.status, headers: res.headers, body };
}

export async function startTestServer(
  storage: ApiStorage,
  options: {
    autoCreateTopics?: boolean;
    lingerMs?: number;
    groupSessionTimeoutMs?: number;
    /** Whether the server runs its subscription dispatcher (default on, as `floe dev`). */
    subscriptions?: boolean;
  } = {},
): Promise<TestServer> {
  const dataDir = storage === "embedded" ? await mkdtemp(path.join(tmpdir(), "floe-api-")) : undefined;
  const server = await startDevServer({ port: 0, storage, dataDir, log: () => {}, ...options });
  const raw = async (
    method: string,
    p: string,
    body: string | Uint8Array,
    headers: Record<string, string> = {},
  ) => parse(await fetch(server.url + p, { method, body, headers }));
  return {
    url: server.url,
    server,
    dataDir,
    raw,
    async call(method, p, body, headers = {}) {
      if (body === undefined) return parse(await fetch(server.url + p, { method, headers }));
      return raw(method, p, JSON.stringify(body), { "content-type": "application/json", ...headers });
    },
    async close() {
      try {
        await server.close();
      } finally {
        if (dataDir) await rm(dataDir, { recursive: true, force: true });
      }
    },
  };
}

let n = 0;
/** A topic name no other test uses. */
export function uniqueTopic(prefix = "t"): string {
  return `${prefix}-${++n}-${Math.random().toString(36).slice(2, 8)}`;
}
