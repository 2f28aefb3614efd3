/**
 * `floe/cdk`: the construct for another CDK app, compiled to dist/construct/ (tsconfig.cdk.json).
 * At synth it bundles the functions from the package's functions/ and src/ with the esbuild of the
 * app's project (NodejsFunction, local bundling, no Docker).
 */
export { FloeBus, type FloeBusProps } from "./floe-bus.js";
export {
  FloeSubscription,
  type FloeSubscriptionProps,
  type FloeSubscriptionTarget,
  SUBSCRIPTION_RESOURCE_TYPE,
} from "./floe-subscription.js";
export type { AuthMode, FrontDoorKind, JwtAuthProps } from "./front-door.js";
export { type FloeFunctionName, FUNCTION_SPECS, WIRED_FUNCTIONS } from "./functions.js";
export { FLOE_METRICS, METRICS_NAMESPACE } from "./observability.js";
