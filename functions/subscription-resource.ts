import type { Logger } from "@aws-lambda-powertools/logger";
import type { CloudFormationCustomResourceEvent } from "aws-lambda";
import { loggableError } from "../src/api/loggable-error.js";
import { Broker } from "../src/broker/broker.js";
import { FloeError } from "../src/errors.js";
import { GroupCoordinator } from "../src/groups/coordinator.js";
import type { Backend } from "../src/storage/ports.js";
import { createSubscription } from "../src/subscriptions/subscription-creation.js";
import { deleteSubscription } from "../src/subscriptions/subscription-deletion.js";
import { settingsFromInput } from "../src/subscriptions/subscription-settings.js";
import { SubscriptionStore } from "../src/subscriptions/subscription-store.js";
import type { SubscriptionChange, SubscriptionInput } from "../src/subscriptions/types.js";
import { backendFromEnv, functionLogger, oncePerContainer } from "./function-setup.js";

/** What the custom-resource provider framework expects back from onEvent. */
export interface ResourceResponse {
  PhysicalResourceId: string;
  Data?: Record<string, string>;
}

export type SubscriptionResourceHandler = (
  event: CloudFormationCustomResourceEvent,
) => Promise<ResourceResponse>;

export interface SubscriptionResourceDeps {
  env?: NodeJS.ProcessEnv;
  backend?: () => Promise<Backend>;
  logger?: Logger;
}

interface Parts {
  store: SubscriptionStore;
  broker: Broker;
  groups: GroupCoordinator;
}

/**
 * FloeSubscription's custom resource (cdk/floe-subscription.ts), the onEvent handler of CDK's
 * provider framework: the subscription is created (as the API creates it), updated
 * in place, or deleted as the stack says. The physical id is the subscription's name, so renaming
 * it makes CloudFormation create the new one and then delete the old. The properties carry the
 * settings as one JSON string (`Subscription`) because CloudFormation would turn the numbers and
 * booleans of structured properties into strings.
 */
export function createHandler(deps: SubscriptionResourceDeps = {}): SubscriptionResourceHandler {
  const env = deps.env ?? process.env;
  const logger = deps.logger ?? functionLogger(env);
  const backend = deps.backend ?? backendFromEnv(env);
  const ready = oncePerContainer(async (): Promise<Parts> => {
    const b = await backend();
    const broker = new Broker(b, { autoCreateTopics: false });
    return {
      store: new SubscriptionStore(b.meta),
      broker,
      groups: new GroupCoordinator({ meta: b.meta, broker }),
    };
  });

  return async (event): Promise<ResourceResponse> => {
    const parts = await ready();
    const name = String(event.ResourceProperties.Name);
    try {
      if (event.RequestType === "Delete") {
        const deleted = await deleteSubscription(parts.store, parts.groups, event.PhysicalResourceId).catch(
          (e: unknown) => {
            // Already gone (deleted through the API, or a create that failed): nothing to do.
            if (e instanceof FloeError && e.code === "RESOURCE_NOT_FOUND")
              return { state: "Deleted" as const };
            throw e;
          },
        );
        logger.info("subscription deleted", { name: event.PhysicalResourceId, state: deleted.state });
        return { PhysicalResourceId: event.PhysicalResourceId, Data: { State: deleted.state } };
      }
      const input = parseInput(event.ResourceProperties.Subscription);
      if (event.RequestType === "Update" && event.PhysicalResourceId === name) {
        const updated = await parts.store.update(name, changeOf(input));
        logger.info("subscription updated", { name, version: updated.version });
        return { PhysicalResourceId: name, Data: { GroupId: updated.groupId } };
      }
      // Create, or an update that renamed it (CloudFormation deletes the old name afterwards).
      // As POST /v1/subscriptions creates it: all or nothing, its starting offsets committed
      // before any dispatcher may join its group.
      const created = await createSubscription(parts.store, parts.broker, parts.groups, name, input);
      logger.info("subscription created", { name });
      return { PhysicalResourceId: name, Data: { GroupId: created.groupId } };
    } catch (e) {
      logger.error("subscription resource failed", {
        requestType: event.RequestType,
        name,
        error: loggableError(e),
      });
      // The message reaches CloudFormation's event log, where the deployer reads why.
      throw e;
    }
  };
}

function parseInput(raw: unknown): SubscriptionInput {
  if (typeof raw !== "string") {
    throw new FloeError("INVALID_CONFIG", "The Subscription property must be the settings as a JSON string.");
  }
  return JSON.parse(raw) as SubscriptionInput;
}

/**
 * The stack is the whole truth about a subscription it owns: every setting is sent, a setting
 * removed from the stack going back to its default. The starting position applies at creation
 * only, so it is left out.
 */
function changeOf(input: SubscriptionInput): SubscriptionChange {
  const { startingPosition: _p, startingPositionTimestamp: _t, ...settings } = settingsFromInput(input);
  return { ...settings, target: input.target, state: input.state ?? "Enabled" };
}

export const handler = createHandler();
