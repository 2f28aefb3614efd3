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

/** Routes every function answers (health, OpenAPI) go to admin; the others to their group's function. */
export function functionForGroup(group: string): FloeFunctionName {
  if (group === "common") return "admin";
  if (group in FUNCTION_SPECS && FUNCTION_SPECS[group as FloeFunctionName].api)
    return group as FloeFunctionName;
  throw new Error(`API route group "${group}" has no Floe function to serve it (cdk/functions.ts)`);
}

/** Every API route with its function; fails when a route belongs to a function that is not deployed. */
export function frontDoorRoutes(wired: readonly FloeFunctionName[]): FrontDoorRoute[] {
  return apiRoutes.map((route) => {
    const fn = functionForGroup(route.group);
    if (!wired.includes(fn)) {
      throw new Error(
        `${route.method} ${route.path} is served by the "${fn}" function, which is not deployed: ` +
          `add "${fn}" to WIRED_FUNCTIONS in cdk/functions.ts`,
      );
    }
    return { method: route.method, path: route.path, fn };
  });
}
