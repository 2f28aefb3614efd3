import type { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import type { Context, DynamoDBStreamEvent, ScheduledEvent } from "aws-lambda";
import { loggableError } from "../src/api/loggable-error.js";
import { Broker } from "../src/broker/broker.js";
import { GroupCoordinator } from "../src/groups/coordinator.js";
import { FloeError } from "../src/errors.js";
import { type PrivateTargets, subscriptionTargets } from "../src/server/subscription-targets.js";
import type { Backend } from "../src/storage/ports.js";
import { Dispatcher } from "../src/subscriptions/dispatcher.js";
import { SubscriptionStore } from "../src/subscriptions/subscription-store.js";
import type { DispatchReport, TargetFactory } from "../src/subscriptions/types.js";
import { type DimensionedMetricsSink, EmfDeliveryMetrics } from "./delivery-metrics.js";
import { backendFromEnv, brokerOptionsFromEnv, functionLogger, oncePerContainer } from "./function-setup.js";

/**
 * Left of the invocation's time once the dispatcher stops starting deliveries: for the batch in
 * flight to be committed, the groups left, and the log and metrics flushed.
 */
export const SAFETY_MARGIN_MS = 10_000;
/** A run gets at least this long, even when invoked with less time left than the margin. */
const MIN_RUN_MS = 1_000;

export type DispatcherEvent = DynamoDBStreamEvent | ScheduledEvent;
export type DispatcherHandler = (event: DispatcherEvent, context: Context) => Promise<DispatchReport>;

export interface DispatcherHandlerDeps {
  env?: NodeJS.ProcessEnv;
  /** Default: the backend FLOE_STORAGE (default "aws") and friends describe. */
  backend?: () => Promise<Backend>;
  /**
   * Default: HTTP and Lambda targets (src/server/subscription-targets.ts) over `env`, HTTP targets
   * refused private addresses unless FLOE_SUBSCRIPTION_PRIVATE_TARGETS is "allow".
   */
  targets?: TargetFactory;
  logger?: Logger;
  metrics?: DimensionedMetricsSink;
}

/**
 * The subscription dispatcher in AWS (architecture §14). Invoked by the metadata table's stream
 * (filtered to partition heads: data arrived) and by a one-minute schedule (retries, batching
 * windows, paused and deleted subscriptions). Either way the event is only a wake-up: each
 * invocation delivers every subscription's pending records until caught up or until its time runs
 * out, as a member of each subscription's consumer group, so concurrent invocations never deliver
 * the same partition at once. The backend, broker and coordinator are built once per container.
 *
 * It throws only when the run itself fails (storage unreachable, a deployment fault). A target's
 * failure is not the invocation's: the dispatcher retries it with backoff, and the group's offset
 * stays before the records until they are delivered or sent to the failure topic, so the next run
 * (the next append or the schedule) takes them up again — nothing is dropped by returning. A thrown
 * run is retried by the stream's event source mapping (a few attempts) and then by the schedule.
 */
export function createHandler(deps: DispatcherHandlerDeps = {}): DispatcherHandler {
  const env = deps.env ?? process.env;
  const logger = deps.logger ?? functionLogger(env);
  const metrics = new EmfDeliveryMetrics(
    deps.metrics ??
      new Metrics({ namespace: env.POWERTOOLS_METRICS_NAMESPACE ?? "Floe", serviceName: "floe-dispatcher" }),
  );
  const backend = deps.backend ?? backendFromEnv(env);
  const ready = oncePerContainer(async (): Promise<Dispatcher> => {
    const targets = deps.targets ?? subscriptionTargets({ env, privateTargets: privateTargetsFromEnv(env) });
    const b = await backend();
    // The failure topic is produced to like any topic: auto-created only if the stack says so.
    const broker = new Broker(b, brokerOptionsFromEnv(env));
    const groups = new GroupCoordinator({ meta: b.meta, broker });
    const store = new SubscriptionStore(b.meta);
    return new Dispatcher({ broker, groups, store, targets, logger, metrics });
  });

  return async (event, context) => {
    let dispatcher: Dispatcher;
    try {
      dispatcher = await ready();
    } catch (e) {
      // A deployment fault (missing FLOE_TABLE, …): logged for the operator; the next call retries.
      logger.error("cannot set up the dispatcher", { error: loggableError(e) });
      throw e;
    }
    const runMs = Math.max(MIN_RUN_MS, context.getRemainingTimeInMillis() - SAFETY_MARGIN_MS);
    const trigger = "Records" in event ? streamTrigger(event) : { source: "schedule" };
    try {
      const report = await dispatcher.runOnce({ deadline: Date.now() + runMs });
      logger.info("dispatch run", { trigger, report });
      return report;
    } catch (e) {
      logger.error("dispatch run failed", { trigger, error: loggableError(e) });
      throw e;
    } finally {
      metrics.flush();
    }
  };
}

/**
 * FLOE_SUBSCRIPTION_PRIVATE_TARGETS: "deny" (the default here) or "allow". Denied by default in
 * Lambda because the dispatcher function can reach the Lambda runtime API on loopback and, in a
 * VPC, internal services, which whoever creates a subscription should not be able to POST to
 * (decision 0013). Any other value fails the setup rather than guessing.
 */
export function privateTargetsFromEnv(env: NodeJS.ProcessEnv): PrivateTargets {
  const value = env.FLOE_SUBSCRIPTION_PRIVATE_TARGETS?.trim().toLowerCase() || "deny";
  if (value !== "allow" && value !== "deny") {
    throw new FloeError(
      "INVALID_CONFIG",
      `FLOE_SUBSCRIPTION_PRIVATE_TARGETS must be "allow" or "deny"; got ${JSON.stringify(env.FLOE_SUBSCRIPTION_PRIVATE_TARGETS)}`,
    );
  }
  return value;
}

/**
 * What woke a run, for its log line: the stream's records counted as partition heads and others.
 * The event source's filter passes heads only, so `other` is 0 unless the filter is missing.
 */
function streamTrigger(event: DynamoDBStreamEvent): { source: "stream"; heads: number; other: number } {
  const heads = event.Records.filter((r) => r.dynamodb?.Keys?.sk?.S === "head").length;
  return { source: "stream", heads, other: event.Records.length - heads };
}

export const handler = createHandler();
