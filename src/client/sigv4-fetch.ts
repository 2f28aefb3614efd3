import { createHash, createHmac } from "node:crypto";
import type { SignatureV4 } from "@smithy/signature-v4";
import type { FetchFn } from "./http-transport.js";

/** SHA-256 and HMAC-SHA-256 on node:crypto, in the shape SignatureV4 expects. */
type SourceData = string | ArrayBuffer | ArrayBufferView;

function toBinary(data: SourceData): string | Uint8Array {
  if (typeof data === "string") return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

export class Sha256 {
  private readonly hash;
  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash("sha256") : createHmac("sha256", toBinary(secret));
  }
  update(data: SourceData): void {
    this.hash.update(toBinary(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
}

export interface SigV4Target {
  service: "execute-api" | "lambda";
  region: string;
}

/**
 * What a deployed URL needs signing as: API Gateway (`{id}.execute-api.{region}.amazonaws.com`) or
 * a Lambda Function URL (`{id}.lambda-url.{region}.on.aws`); undefined for anything else.
 */
export function sigv4TargetOf(url: string, regionFallback?: string): SigV4Target | undefined {
  const host = new URL(url).hostname;
  const api = /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com$/.exec(host);
  if (api) return { service: "execute-api", region: api[1] };
  const fn = /\.lambda-url\.([a-z0-9-]+)\.on\.aws$/.exec(host);
  if (fn) return { service: "lambda", region: fn[1] };
  return regionFallback ? { service: "execute-api", region: regionFallback } : undefined;
}

type Credentials = ConstructorParameters<typeof SignatureV4>[0]["credentials"];

/**
 * A fetch that signs every request with SigV4 using the standard AWS credential chain (env,
 * shared config and SSO profiles, container and instance roles), as the deployed stack's IAM
 * authorisation requires. The signer and the credential chain (a large part of the AWS SDK) are
 * loaded on the first request, not on import, so a `floe` command that never signs never pays
 * for them.
 */
export function sigv4Fetch(
  target: SigV4Target,
  options: {
    credentials?: Credentials;
    fetch?: FetchFn;
  } = {},
): FetchFn {
  let signerLoad: Promise<SignatureV4> | undefined;
  const signerOnce = () => {
    if (!signerLoad) {
      const load = newSigner(target, options.credentials);
      // A failed load (a missing package) fails this request and is tried again on the next.
      load.catch(() => {
        if (signerLoad === load) signerLoad = undefined;
      });
      signerLoad = load;
    }
    return signerLoad;
  };
  const send: FetchFn = options.fetch ?? ((input, init) => fetch(input, init));
  return async (input, init) => {
    const url = new URL(input);
    const headers: Record<string, string> = { host: url.host };
    new Headers(init.headers).forEach((value, name) => {
      headers[name] = value;
    });
    const body = init.body === undefined || init.body === null ? undefined : await bodyBytes(init.body);
    const query: Record<string, string | string[]> = {};
    url.searchParams.forEach((value, name) => {
      const prev = query[name];
      query[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
    });
    const signer = await signerOnce();
    const signed = await signer.sign({
      method: (init.method ?? "GET").toUpperCase(),
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      path: url.pathname,
      query,
      headers,
      body,
    });
    return send(url.toString(), { ...init, headers: signed.headers, body });
  };
}

async function newSigner(target: SigV4Target, credentials: Credentials | undefined): Promise<SignatureV4> {
  const { SignatureV4 } = await import("@smithy/signature-v4");
  return new SignatureV4({
    service: target.service,
    region: target.region,
    credentials: credentials ?? (await import("@aws-sdk/credential-provider-node")).defaultProvider(),
    sha256: Sha256,
  });
}

async function bodyBytes(body: NonNullable<RequestInit["body"]>): Promise<Uint8Array> {
  if (typeof body === "string") return new TextEncoder().encode(body);
  if (body instanceof Uint8Array) return body;
  return new Uint8Array(await new Response(body).arrayBuffer());
}
