import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A real HTTP server speaking Lambda's Invoke REST API (`POST /2015-03-31/functions/{FunctionName}/
 * invocations`), so the real LambdaClient — pointed here with an endpoint override and dummy
 * credentials — invokes test functions the way it invokes Lambda: the handler gets the parsed
 * event, and its result or thrown error comes back as Lambda sends it (200 with the JSON result;
 * 200 with `X-Amz-Function-Error: Unhandled` and `{errorType, errorMessage, trace}`; 404
 * ResourceNotFoundException for a function never registered; 413 for a payload over 6 MB).
 */

export interface LambdaTestContext {
  functionName: string;
  invokedFunctionArn: string;
  awsRequestId: string;
}

/**
 * Thrown by a test handler to have the Invoke API itself refuse the call with `status` and Lambda's
 * error `code` (a 429 TooManyRequestsException, a 5xx ServiceException), as when Lambda throttles
 * the function, instead of the handler failing.
 */
export class InvokeRefused extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message = code,
  ) {
    super(message);
  }
}

export type LambdaTestHandler = (event: unknown, context: LambdaTestContext) => unknown;

export interface Invocation {
  functionName: string;
  invocationType: string;
  /** The request payload exactly as received. */
  payload: Buffer;
}

export interface LambdaInvokeServer {
  /** The endpoint to give LambdaClient. */
  endpoint: string;
  /** A LambdaClientConfig's worth of settings that reach this server (dummy credentials). */
  clientConfig: {
    endpoint: string;
    region: string;
    credentials: { accessKeyId: string; secretAccessKey: string };
    maxAttempts: number;
  };
  register(functionName: string, handler: LambdaTestHandler): void;
  /** Every invocation received, in order, including ones of unknown functions. */
  invocations: Invocation[];
  close(): Promise<void>;
}

const REGION = "us-east-1";
const ACCOUNT = "000000000000";
/** Lambda's synchronous request payload quota. */
const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;
const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;

export async function startLambdaInvokeServer(): Promise<LambdaInvokeServer> {
  const handlers = new Map<string, LambdaTestHandler>();
  const invocations: Invocation[] = [];

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      void answer(req, res, Buffer.concat(chunks)).catch((e: unknown) => {
        if (!res.headersSent) sendError(res, 500, "ServiceException", String(e));
        else res.destroy();
      });
    });
  });

  async function answer(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    const url = new URL(req.url ?? "/", "http://localhost");
    const match = req.method === "POST" ? INVOKE_PATH.exec(url.pathname) : null;
    if (!match)
      return sendError(res, 404, "UnknownOperationException", `No route for ${req.method} ${url.pathname}`);
    const functionName = baseName(decodeURIComponent(match[1]));
    const invocationType = String(req.headers["x-amz-invocation-type"] ?? "RequestResponse");
    invocations.push({ functionName, invocationType, payload: body });
    const arn = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${functionName}`;
    const handler = handlers.get(functionName);
    if (!handler) return sendError(res, 404, "ResourceNotFoundException", `Function not found: ${arn}`);
    if (body.byteLength > MAX_PAYLOAD_BYTES) {
      return sendError(
        res,
        413,
        "RequestEntityTooLargeException",
        `${body.byteLength} byte payload is too large for the RequestResponse invocation type (limit ${MAX_PAYLOAD_BYTES} bytes)`,
      );
    }
    if (invocationType !== "RequestResponse") {
      return sendError(res, 400, "InvalidParameterValueException", `Unsupported here: ${invocationType}`);
    }
    const requestId = randomUUID();
    let event: unknown;
    try {
      event = body.byteLength === 0 ? {} : JSON.parse(body.toString("utf8"));
    } catch {
      return sendError(res, 400, "InvalidRequestContentException", "Could not parse request body into json");
    }
    const headers: Record<string, string> = {
      "content-type": "application/json",
      "x-amzn-requestid": requestId,
      "x-amz-executed-version": "$LATEST",
    };
    let result: unknown;
    try {
      result = await handler(event, { functionName, invokedFunctionArn: arn, awsRequestId: requestId });
    } catch (e) {
      if (e instanceof InvokeRefused) return sendError(res, e.status, e.code, e.message);
      const error = e instanceof Error ? e : new Error(String(e));
      res.writeHead(200, { ...headers, "x-amz-function-error": "Unhandled" });
      res.end(
        JSON.stringify({
          errorType: error.name,
          errorMessage: error.message,
          trace: (error.stack ?? "").split("\n"),
        }),
      );
      return;
    }
    res.writeHead(200, headers);
    // A handler that returns nothing answers `null`, as the Node.js runtime does.
    res.end(JSON.stringify(result ?? null));
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    endpoint,
    clientConfig: {
      endpoint,
      region: REGION,
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
      // One attempt: a test sees each invocation once, not the SDK's retries of a 5xx.
      maxAttempts: 1,
    },
    register(functionName, handler) {
      handlers.set(functionName, handler);
    },
    invocations,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A function's name from a name, name:qualifier, or (partial) ARN, as Lambda resolves them. */
function baseName(functionName: string): string {
  const parts = functionName.split(":");
  const at = parts.indexOf("function");
  if (at >= 0 && at + 1 < parts.length) return parts[at + 1];
  // "123456789012:function:name" is covered above; "name:qualifier" keeps the name.
  return parts[0];
}

/** An error as Lambda's REST API sends one: the type in x-amzn-ErrorType, a JSON body. */
function sendError(res: ServerResponse, status: number, type: string, message: string): void {
  res.writeHead(status, {
    "content-type": "application/json",
    "x-amzn-errortype": type,
    "x-amzn-requestid": randomUUID(),
  });
  res.end(JSON.stringify({ Type: "User", message }));
}
