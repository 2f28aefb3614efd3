import { guardedFetch } from "../subscriptions/targets/guarded-fetch.js";
import { createHttpTarget } from "../subscriptions/targets/http-target.js";
import type { LambdaInvoke } from "../subscriptions/targets/lambda-target.js";
import { createLambdaTarget } from "../subscriptions/targets/lambda-target.js";
import type { DeliveryTarget, Subscription, TargetFactory } from "../subscriptions/types.js";

/** Whether HTTP targets may reach private addresses (env FLOE_SUBSCRIPTION_PRIVATE_TARGETS in Lambda). */
export type PrivateTargets = "allow" | "deny";

export interface SubscriptionTargetsOptions {
  /** Where the Lambda client finds its region and endpoint. Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** The fetch HTTP targets POST with (the global one, or guardedFetch when private targets are denied). */
  fetch?: typeof fetch;
  /**
   * Whether HTTP targets may reach private addresses (loopback, private networks, link-local,
   * private-address.ts). "deny" POSTs through guardedFetch, which refuses to connect to one (SSRF,
   * decision 0013); a `fetch` given above is used as it is. Default "allow": floe dev and floe
   * agent usually deliver to local endpoints. The Lambda dispatcher denies by default.
   */
  privateTargets?: PrivateTargets;
  /** Invokes Lambda functions; default the AWS SDK's LambdaClient, made on the first invocation. */
  invoke?: LambdaInvoke;
}

/**
 * The targets a dispatcher delivers to, wherever it runs (floe dev, floe agent, the Lambda
 * dispatcher): HTTP(S) endpoints, and Lambda functions invoked through the AWS SDK.
 */
export function subscriptionTargets(options: SubscriptionTargetsOptions = {}): TargetFactory {
  const invoke = options.invoke ?? lazyLambdaInvoke(options.env ?? process.env);
  // One guarded fetch for every target: its keep-alive connections are shared.
  const post = options.fetch ?? (options.privateTargets === "deny" ? guardedFetch() : undefined);
  return (subscription: Subscription): DeliveryTarget => {
    const target = subscription.target;
    if (target.type === "http") return createHttpTarget(target, subscription, { fetch: post });
    return createLambdaTarget(target, subscription, invoke);
  };
}

/**
 * A LambdaInvoke whose client (and the Lambda SDK itself) is loaded on the first invocation: a
 * `floe dev` with no Lambda target never loads it. The region is AWS_REGION and the endpoint
 * AWS_ENDPOINT_URL_LAMBDA, else AWS_ENDPOINT_URL (LocalStack, a test's invoke server), as the SDK
 * reads them; both are taken from `env` so a caller can point one dispatcher elsewhere.
 */
function lazyLambdaInvoke(env: NodeJS.ProcessEnv): LambdaInvoke {
  let ready: Promise<LambdaInvoke> | undefined;
  return async (functionName, payload, signal) => {
    ready ??= import("../subscriptions/targets/aws-lambda-invoke.js").then(({ awsLambdaInvoke }) =>
      awsLambdaInvoke({
        region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION,
        endpoint: env.AWS_ENDPOINT_URL_LAMBDA ?? env.AWS_ENDPOINT_URL,
        // The process's own credentials come through the SDK's default chain (which also refreshes
        // them); another environment's are taken as given.
        credentials: env !== process.env ? staticCredentials(env) : undefined,
      }),
    );
    const invoke = await ready.catch((e: unknown) => {
      ready = undefined;
      throw e;
    });
    return invoke(functionName, payload, signal);
  };
}

function staticCredentials(env: NodeJS.ProcessEnv) {
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey } = env;
  if (!accessKeyId || !secretAccessKey) return undefined;
  return { accessKeyId, secretAccessKey, sessionToken: env.AWS_SESSION_TOKEN };
}
