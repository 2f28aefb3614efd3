import type { KafkaErrorCode } from "../../errors.js";
import { createSubscription } from "../../subscriptions/subscription-creation.js";
import { deleteSubscription } from "../../subscriptions/subscription-deletion.js";
import { describeSubscription } from "../../subscriptions/subscription-status.js";
import { SubscriptionStore } from "../../subscriptions/subscription-store.js";
import { emptyResponse, jsonResponse } from "../json-response.js";
import { defineRoute, type InputPart } from "../route.js";
import {
  CreateSubscriptionRequest,
  DeletingResponse,
  Subscription,
  SubscriptionDescription,
  SubscriptionList,
  SubscriptionParams,
  UpdateSubscriptionRequest,
} from "../subscription-schemas.js";

/**
 * A subscription's settings are its configuration: a bad one (or a bad name) is INVALID_CONFIG, as the
 * store says. A body that is no object, or has unknown fields, is INVALID_REQUEST, as on every route.
 */
function subscriptionFieldCode(part: InputPart, path: readonly PropertyKey[]): KafkaErrorCode | undefined {
  if (part === "params") return "INVALID_CONFIG";
  return part === "body" && path.length > 0 ? "INVALID_CONFIG" : undefined;
}

const subscriptionPath = (name: string) => `/v1/subscriptions/${encodeURIComponent(name)}`;

/** Push subscriptions (architecture §14): the resource; delivery is the dispatcher's. */
export const subscriptionRoutes = [
  defineRoute({
    method: "POST",
    path: "/v1/subscriptions",
    group: "admin",
    operationId: "createSubscription",
    summary: "Create a push subscription: its topics delivered to an HTTP endpoint or a Lambda function",
    description:
      "Stores the subscription and commits its starting offsets (startingPosition) for every partition of its " +
      "topics that exists now, in its consumer group floe-subscription-{name}; partitions that appear later are " +
      "delivered from their log start. The answer carries the signing secret of an HTTP target.",
    body: CreateSubscriptionRequest,
    codeFor: subscriptionFieldCode,
    responses: { 201: { description: "Created.", schema: Subscription } },
    errors: ["INVALID_CONFIG", "INVALID_REGULAR_EXPRESSION", "DUPLICATE_RESOURCE", "CONCURRENT_TRANSACTIONS"],
    async handle({ body, broker, groups }) {
      const { name, ...input } = body;
      const created = await createSubscription(
        new SubscriptionStore(broker.meta),
        broker,
        groups,
        name,
        input,
      );
      return jsonResponse(201, created, { location: subscriptionPath(name) });
    },
  }),
  defineRoute({
    method: "GET",
    path: "/v1/subscriptions",
    group: "admin",
    operationId: "listSubscriptions",
    summary: "List push subscriptions",
    responses: { 200: { description: "Every subscription, by name.", schema: SubscriptionList } },
    errors: [],
    async handle({ broker }) {
      return jsonResponse(200, { subscriptions: await new SubscriptionStore(broker.meta).list() });
    },
  }),
  defineRoute({
    method: "GET",
    path: "/v1/subscriptions/{name}",
    group: "admin",
    operationId: "describeSubscription",
    summary:
      "Describe a subscription: its definition, delivery counts, lag, oldest undelivered record, last error",
    params: SubscriptionParams,
    codeFor: subscriptionFieldCode,
    responses: { 200: { description: "The subscription with its status.", schema: SubscriptionDescription } },
    errors: ["INVALID_CONFIG", "RESOURCE_NOT_FOUND"],
    async handle({ params, broker, groups }) {
      const store = new SubscriptionStore(broker.meta);
      return jsonResponse(200, await describeSubscription(store, groups, params.name, Date.now(), broker));
    },
  }),
  defineRoute({
    method: "PATCH",
    path: "/v1/subscriptions/{name}",
    group: "admin",
    operationId: "updateSubscription",
    summary: "Change a subscription's settings, or pause (Disabled) and resume (Enabled) it",
    description:
      "Fields given replace the stored ones (naming topics drops topicRegex and the other way round); the " +
      "starting position only applies at creation. With version, the change applies only to that version.",
    params: SubscriptionParams,
    body: UpdateSubscriptionRequest,
    codeFor: subscriptionFieldCode,
    responses: { 200: { description: "The subscription after the change.", schema: Subscription } },
    errors: [
      "INVALID_CONFIG",
      "INVALID_REGULAR_EXPRESSION",
      "RESOURCE_NOT_FOUND",
      "INVALID_UPDATE_VERSION",
      "CONCURRENT_TRANSACTIONS",
    ],
    async handle({ params, body, broker }) {
      const { version, ...change } = body;
      return jsonResponse(200, await new SubscriptionStore(broker.meta).update(params.name, change, version));
    },
  }),
  defineRoute({
    method: "DELETE",
    path: "/v1/subscriptions/{name}",
    group: "admin",
    operationId: "deleteSubscription",
    summary: "Delete a subscription and its consumer group",
    description:
      "204 when it is gone at once; 202 while a dispatcher still holds its group: delivery stops after the " +
      "in-flight batches, then the group and the definition go (deleting again finishes it).",
    params: SubscriptionParams,
    codeFor: subscriptionFieldCode,
    responses: {
      202: { description: "Being deleted.", schema: DeletingResponse },
      204: { description: "Deleted." },
    },
    errors: ["INVALID_CONFIG", "RESOURCE_NOT_FOUND", "CONCURRENT_TRANSACTIONS"],
    async handle({ params, broker, groups }) {
      const { state } = await deleteSubscription(new SubscriptionStore(broker.meta), groups, params.name);
      return state === "Deleted" ? emptyResponse(204) : jsonResponse(202, { state });
    },
  }),
];
