/**
 * Which function serves which HTTP route, derived from the API's own route table so the front door
 * and the handlers can never disagree about a path.
 */
import { apiRoutes } from "../src/api/route-table.js";
import type { HttpMethod } from "../src/api/route.js";
import { type FloeFunctionName, FUNCTION_SPECS } from "./functions.js";

export interface FrontDoorRoute {
  method: HttpMethod;
  /** API Gateway template syntax, e.g. /v1/topics/{topic}/records. */
  path: string;
  fn: FloeFunctionName;
}

export interface RoutePlan {
  /** Routes whose function is deployed: the front door exposes exactly these. */
  routes: FrontDoorRoute[];
  /** Routes whose function is not deployed (yet): left out, and reported as a synth warning. */
  undeployed: FrontDoorRoute[];
}

/** Routes every function answers (health, OpenAPI) go to admin; the others to their group's function. */
export function functionForGroup(group: string): FloeFunctionName {
  if (group === "common") return "admin";
  if (group in FUNCTION_SPECS && FUNCTION_SPECS[group as FloeFunctionName].api)
    return group as FloeFunctionName;
  throw new Error(`API route group "${group}" has no Floe function to serve it (cdk/functions.ts)`);
}

/**
 * Every API route with its function. A route family can reach the route table before its function
 * is added to WIRED_FUNCTIONS; it is then left out rather than failing every synth.
 */
export function planRoutes(wired: readonly FloeFunctionName[], table = apiRoutes): RoutePlan {
  const plan: RoutePlan = { routes: [], undeployed: [] };
  for (const route of table) {
    const entry = { method: route.method, path: route.path, fn: functionForGroup(route.group) };
    (wired.includes(entry.fn) ? plan.routes : plan.undeployed).push(entry);
  }
  return plan;
}
