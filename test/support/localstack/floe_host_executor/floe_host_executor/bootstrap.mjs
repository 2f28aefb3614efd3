/**
 * One Lambda execution environment as a host Node.js process, started by the floe-host LocalStack
 * executor (executor.py beside this file). It speaks LocalStack's side of the invocation path, the
 * one LocalStack's own runtime init speaks inside a Docker container:
 *   - LocalStack POSTs {"invoke-id", "invoked-function-arn", "payload", "trace-id"} to
 *     http://127.0.0.1:$FLOE_INVOKE_PORT/invoke and waits for a callback;
 *   - this process calls the handler and POSTs the function's output to
 *     $LOCALSTACK_RUNTIME_ENDPOINT/invocations/{id}/logs, then the result to .../response or .../error;
 *   - at start it POSTs .../status/{runtime id}/ready (or .../error when the handler fails to load).
 * What it does not emulate is listed in test/support/localstack/README.md.
 */
import { createServer } from "node:http";
import { existsSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const env = process.env;
const endpoint = env.LOCALSTACK_RUNTIME_ENDPOINT;
const runtimeId = env.LOCALSTACK_RUNTIME_ID;
const taskRoot = env.LAMBDA_TASK_ROOT;
const port = Number(env.FLOE_INVOKE_PORT);
const timeoutMs = Number(env.AWS_LAMBDA_FUNCTION_TIMEOUT || "3") * 1000;

async function post(url, body) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  await res.arrayBuffer();
}

function errorPayload(err, type) {
  const e = err instanceof Error ? err : new Error(String(err));
  return {
    errorType: type ?? e.name ?? "Error",
    errorMessage: e.message,
    trace: String(e.stack ?? "").split("\n"),
  };
}

/** "dir/index.handler" → the export `handler` of dir/index.{mjs,js,cjs} under the task root. */
async function loadHandler(spec) {
  const dot = spec.lastIndexOf(".");
  const modulePath = spec.slice(0, dot);
  const exportName = spec.slice(dot + 1);
  const file = [".mjs", ".js", ".cjs"]
    .map((ext) => path.join(taskRoot, modulePath + ext))
    .find((candidate) => existsSync(candidate));
  if (!file)
    throw Object.assign(new Error(`Cannot find module '${modulePath}'`), {
      name: "Runtime.ImportModuleError",
    });
  const mod = await import(pathToFileURL(file).href);
  const fn = mod[exportName] ?? mod.default?.[exportName];
  if (typeof fn !== "function") {
    throw Object.assign(new Error(`${spec} is undefined or not exported`), {
      name: "Runtime.HandlerNotFound",
    });
  }
  return fn;
}

// The function's output during an invocation is sent to LocalStack as that invocation's logs, which
// LocalStack writes to CloudWatch Logs, as Lambda does with what a function prints.
let captured = [];
for (const stream of [process.stdout, process.stderr]) {
  const write = stream.write.bind(stream);
  stream.write = (chunk, ...rest) => {
    captured.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
    return write(chunk, ...rest);
  };
}

function context(invocation, deadline) {
  return {
    awsRequestId: invocation["invoke-id"],
    invokedFunctionArn: invocation["invoked-function-arn"],
    functionName: env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION,
    memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}

async function invoke(handler, invocation) {
  const id = invocation["invoke-id"];
  const deadline = Date.now() + timeoutMs;
  captured = [`START RequestId: ${id}\n`];
  env._X_AMZN_TRACE_ID = invocation["trace-id"];
  let outcome;
  let timer;
  try {
    const event = invocation.payload ? JSON.parse(invocation.payload) : {};
    const ctx = context(invocation, deadline);
    const run =
      handler.length >= 3
        ? new Promise((resolve, reject) => {
            const r = handler(event, ctx, (err, value) => (err ? reject(err) : resolve(value)));
            if (r && typeof r.then === "function") r.then(resolve, reject);
          })
        : Promise.resolve(handler(event, ctx));
    // The function's timeout is reported as Lambda reports it; the process is not killed (see README).
    const timedOut = new Promise((resolve) => {
      timer = setTimeout(
        () =>
          resolve({
            error: {
              errorType: "Sandbox.Timedout",
              errorMessage: `Task timed out after ${timeoutMs / 1000} seconds`,
            },
          }),
        timeoutMs,
      );
    });
    outcome = await Promise.race([
      run.then(
        (value) => ({ value }),
        (err) => ({ error: errorPayload(err) }),
      ),
      timedOut,
    ]);
  } catch (err) {
    outcome = { error: errorPayload(err) };
  } finally {
    clearTimeout(timer);
  }
  captured.push(`END RequestId: ${id}\n`);
  const logs = captured.join("");
  captured = [];
  await post(`${endpoint}/invocations/${id}/logs`, { logs });
  if (outcome.error) await post(`${endpoint}/invocations/${id}/error`, outcome.error);
  else await post(`${endpoint}/invocations/${id}/response`, JSON.stringify(outcome.value ?? null));
}

let handler;
try {
  handler = await loadHandler(env._HANDLER ?? "index.handler");
} catch (err) {
  console.error(err);
  await post(`${endpoint}/status/${runtimeId}/error`, errorPayload(err, err?.name));
  process.exit(1);
}

// LocalStack sends one invocation at a time to an environment; the chain keeps them in order anyway.
let chain = Promise.resolve();
const server = createServer((req, res) => {
  const parts = [];
  req.on("data", (c) => parts.push(c));
  req.on("end", () => {
    if (req.method !== "POST" || req.url !== "/invoke") {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200).end();
    const invocation = JSON.parse(Buffer.concat(parts).toString("utf8"));
    chain = chain.then(() =>
      invoke(handler, invocation).catch((err) => console.error("floe-host bootstrap: could not report", err)),
    );
  });
});
server.listen(port, "127.0.0.1", () => {
  post(`${endpoint}/status/${runtimeId}/ready`, {}).catch((err) => {
    console.error("floe-host bootstrap: LocalStack did not take the ready signal", err);
    process.exit(1);
  });
});
