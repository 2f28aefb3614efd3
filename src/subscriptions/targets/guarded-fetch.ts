import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from "node:dns";
import http from "node:http";
import https from "node:https";
import { isIP, type LookupFunction } from "node:net";
import { Readable } from "node:stream";
import { isPrivateAddress } from "./private-address.js";

/**
 * A fetch for HTTP targets that refuses to connect to private addresses (private-address.ts), so
 * whoever may create a subscription cannot make the dispatcher POST to the Lambda runtime API on
 * loopback, the metadata endpoints or services inside its VPC (SSRF; decision 0013).
 *
 * The check is on the address the socket connects to, not on the URL: a hostname is resolved by a
 * lookup that vets every address dns.lookup returns and hands the socket exactly those, so a name
 * that resolves differently between a check and the connect (DNS rebinding) cannot slip through.
 * An IP literal (which Node connects to without a lookup) is checked before the request.
 *
 * It is the subset of fetch http-target.ts uses — POST with headers, a string or byte body, a
 * signal, redirects never followed — over node:http/node:https with keep-alive agents, answering a
 * WHATWG Response (status, headers, the body streamed from the socket).
 */

export const PRIVATE_TARGETS_ENV = "FLOE_SUBSCRIPTION_PRIVATE_TARGETS";

/**
 * How long an idle kept-alive connection is kept: below the 5 s keep-alive timeout of Node's HTTP
 * server (and undici's default of 4 s), so a POST seldom goes out on a connection the server is
 * closing.
 */
const FREE_SOCKET_TIMEOUT_MS = 4_000;

/** Statuses whose response has no body (the Response constructor refuses one). */
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

export interface GuardedFetchOptions {
  /** Whether an address may not be connected to. Default isPrivateAddress. */
  isDenied?: (ip: string) => boolean;
}

/** A connection refused because of the address it would reach. */
export class PrivateAddressError extends Error {
  readonly address: string;

  constructor(address: string, hostname?: string) {
    super(
      `refused to connect to ${hostname && hostname !== address ? `${hostname} at ` : ""}${address} (a private address); set ${PRIVATE_TARGETS_ENV}=allow to allow it`,
    );
    this.name = "PrivateAddressError";
    this.address = address;
  }
}

export function guardedFetch(options: GuardedFetchOptions = {}): typeof fetch {
  const isDenied = options.isDenied ?? isPrivateAddress;
  const lookup = vettingLookup(isDenied);
  // The lookup sits on the agents, so every socket they open (and later reuse) was vetted.
  const agents = {
    "http:": new http.Agent({ keepAlive: true, timeout: FREE_SOCKET_TIMEOUT_MS, lookup }),
    "https:": new https.Agent({ keepAlive: true, timeout: FREE_SOCKET_TIMEOUT_MS, lookup }),
  };

  const post = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    if (typeof input !== "string" && !(input instanceof URL)) {
      throw new TypeError("guardedFetch takes a URL, not a Request");
    }
    const url = new URL(input);
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new TypeError(`guardedFetch: unsupported protocol ${url.protocol}`);
    }
    if (init.redirect !== undefined && init.redirect !== "manual") {
      throw new TypeError('guardedFetch never follows redirects: use redirect: "manual"');
    }
    // A literal is connected to without a lookup: checked here. URL keeps IPv6 in brackets.
    const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
    if (isIP(host) !== 0 && isDenied(host)) throw new PrivateAddressError(host);
    const signal = init.signal ?? undefined;
    if (signal?.aborted) throw signal.reason;
    const body = requestBody(init.body);
    const headers: Record<string, string> = {};
    for (const [name, value] of new Headers(init.headers)) headers[name] = value;
    if (body !== undefined) headers["content-length"] = String(body.byteLength);

    return new Promise<Response>((resolve, reject) => {
      const request = (url.protocol === "https:" ? https : http).request(url, {
        method: init.method ?? "GET",
        headers,
        agent: agents[url.protocol as "http:" | "https:"],
      });
      const onAbort = () => request.destroy(signal?.reason);
      signal?.addEventListener("abort", onAbort, { once: true });
      const done = () => signal?.removeEventListener("abort", onAbort);
      request.on("error", (e) => {
        done();
        // An abort destroys the request with the signal's reason, which fetch rejects with.
        reject(signal?.aborted ? signal.reason : e);
      });
      request.on("response", (incoming) => {
        incoming.on("end", done);
        incoming.on("close", done);
        incoming.on("error", () => done());
        // An abort after the headers ends the body with the signal's reason, as fetch's does.
        signal?.removeEventListener("abort", onAbort);
        const onBodyAbort = () => incoming.destroy(signal?.reason);
        signal?.addEventListener("abort", onBodyAbort, { once: true });
        incoming.on("close", () => signal?.removeEventListener("abort", onBodyAbort));
        try {
          resolve(toResponse(incoming));
        } catch (e) {
          incoming.destroy();
          reject(e);
        }
      });
      request.end(body);
    });
  };
  return post as typeof fetch;
}

/**
 * A dns.lookup that fails when any address the name resolves to is denied: a name with one public
 * and one private address is refused rather than connected to whichever comes first.
 */
function vettingLookup(isDenied: (ip: string) => boolean): LookupFunction {
  return ((hostname: string, options: LookupOptions, callback: LookupCallback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, options.all ? [] : "", 0);
      const denied = addresses.find((a) => isDenied(a.address));
      if (denied) {
        return callback(new PrivateAddressError(denied.address, hostname), options.all ? [] : "", 0);
      }
      if (options.all) return callback(null, addresses);
      const first = addresses[0];
      return callback(null, first.address, first.family);
    });
  }) as LookupFunction;
}

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

function requestBody(body: RequestInit["body"]): Uint8Array | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === "string") return Buffer.from(body, "utf8");
  if (body instanceof Uint8Array) return body;
  if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  throw new TypeError("guardedFetch takes a string or byte body");
}

/** The response as fetch gives it, with redirect "manual": a 3xx is returned as it came. */
function toResponse(incoming: http.IncomingMessage): Response {
  const headers = new Headers();
  const raw = incoming.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) headers.append(raw[i], raw[i + 1]);
  const status = incoming.statusCode ?? 0;
  if (NULL_BODY_STATUSES.has(status)) {
    incoming.resume();
    return new Response(null, { status, statusText: incoming.statusMessage, headers });
  }
  const body = Readable.toWeb(incoming) as ReadableStream<Uint8Array>;
  return new Response(body, { status, statusText: incoming.statusMessage, headers });
}
