/**
 * Plain signed HTTP calls to LocalStack for the few AWS APIs the deployed tier reads and the
 * project has no SDK client for (Lambda Invoke and ListFunctions, CloudWatch ListMetrics and
 * GetMetricData): SigV4 with @smithy/signature-v4, which the project already depends on.
 */
import { SignatureV4 } from "@smithy/signature-v4";
import { Sha256 } from "../../src/client/sigv4-fetch.js";

export const LOCALSTACK = "http://127.0.0.1:4566";
export const REGION = "us-east-1";
/** LocalStack takes any credentials; these are the ones its docs use (account 000000000000). */
export const CREDENTIALS = { accessKeyId: "test", secretAccessKey: "test" };

/** What cdklocal and every AWS SDK in a child process need to talk to LocalStack on loopback. */
export function localstackEnv(): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: LOCALSTACK,
    AWS_ENDPOINT_URL_S3: LOCALSTACK,
    AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    AWS_REGION: REGION,
    AWS_DEFAULT_REGION: REGION,
    CDK_DEFAULT_ACCOUNT: "000000000000",
    CDK_DEFAULT_REGION: REGION,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
  };
}

export interface AwsResponse {
  status: number;
  headers: Headers;
  text: string;
}

/** One signed request to `service` on LocalStack. */
export async function awsCall(
  service: string,
  method: string,
  path: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<AwsResponse> {
  const url = new URL(path, LOCALSTACK);
  const signer = new SignatureV4({ service, region: REGION, credentials: CREDENTIALS, sha256: Sha256 });
  const query: Record<string, string> = {};
  url.searchParams.forEach((v, k) => {
    query[k] = v;
  });
  const signed = await signer.sign({
    method,
    protocol: "http:",
    hostname: url.hostname,
    port: Number(url.port),
    path: url.pathname,
    query,
    headers: { host: url.host, ...headers },
    body,
  });
  const res = await fetch(url, { method, headers: signed.headers as Record<string, string>, body });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

async function ok(res: Promise<AwsResponse>, what: string): Promise<AwsResponse> {
  const r = await res;
  if (r.status >= 300) throw new Error(`${what}: HTTP ${r.status} ${r.text.slice(0, 500)}`);
  return r;
}

/** Lambda ListFunctions: every function's name. */
export async function functionNames(): Promise<string[]> {
  const names: string[] = [];
  let marker: string | undefined;
  do {
    const q = marker ? `?Marker=${encodeURIComponent(marker)}` : "";
    const r = await ok(awsCall("lambda", "GET", `/2015-03-31/functions/${q}`), "ListFunctions");
    const page = JSON.parse(r.text) as { Functions: { FunctionName: string }[]; NextMarker?: string };
    names.push(...page.Functions.map((f) => f.FunctionName));
    marker = page.NextMarker;
  } while (marker);
  return names;
}

/** Lambda Invoke (RequestResponse): the function's result, or a thrown error for a function error. */
export async function invokeFunction(name: string, payload: unknown): Promise<unknown> {
  const r = await ok(
    awsCall(
      "lambda",
      "POST",
      `/2015-03-31/functions/${encodeURIComponent(name)}/invocations`,
      JSON.stringify(payload),
      { "content-type": "application/json", "x-amz-invocation-type": "RequestResponse" },
    ),
    `Invoke ${name}`,
  );
  if (r.headers.get("x-amz-function-error")) throw new Error(`${name} failed: ${r.text}`);
  return r.text === "" ? null : JSON.parse(r.text);
}

/** CloudWatch through its JSON protocol (awsJson1_0), which LocalStack 4.14 serves. */
export async function cloudwatch<T>(action: string, input: unknown): Promise<T> {
  const r = await ok(
    awsCall("monitoring", "POST", "/", JSON.stringify(input), {
      "content-type": "application/x-amz-json-1.0",
      "x-amz-target": `GraniteServiceVersion20100801.${action}`,
    }),
    `CloudWatch ${action}`,
  );
  return JSON.parse(r.text) as T;
}
