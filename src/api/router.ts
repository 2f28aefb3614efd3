import { FloeError } from "../errors.js";
import { type HttpMethod, type Route, routeKey } from "./route.js";

/** A refusal that needs a response header besides the error body (405's Allow). */
export class RoutingError extends FloeError {
  constructor(
    code: "ROUTE_NOT_FOUND" | "METHOD_NOT_ALLOWED",
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(code, message);
  }
}

export type RouteMatch =
  | { kind: "found"; route: Route; pathParameters: Record<string, string> }
  | { kind: "wrong-method"; allowed: HttpMethod[] }
  | { kind: "not-found" };

interface CompiledRoute {
  route: Route;
  /** Literal segments as strings, parameters as their names wrapped in an object. */
  segments: (string | { param: string })[];
}

/**
 * Matches a request path against API Gateway style templates (`/v1/topics/{topic}`), one path
 * segment per parameter, so a topic name can never swallow the rest of the path.
 */
export class Router {
  private readonly compiled: CompiledRoute[];
  private readonly byKey: Map<string, Route>;

  constructor(readonly routes: readonly Route[]) {
    this.compiled = routes.map((route) => ({
      route,
      segments: route.path
        .split("/")
        .slice(1)
        .map((s) => (s.startsWith("{") && s.endsWith("}") ? { param: s.slice(1, -1) } : s)),
    }));
    this.byKey = new Map(routes.map((r) => [routeKey(r), r]));
  }

  /** The route API Gateway (or our own matcher) resolved to, by its `METHOD /path` key. */
  byRouteKey(key: string): Route | undefined {
    return this.byKey.get(key);
  }

  match(method: string, path: string): RouteMatch {
    const parts = path.split("/").slice(1);
    if (parts.length > 1 && parts[parts.length - 1] === "") parts.pop(); // a trailing slash is forgiven
    const allowed: HttpMethod[] = [];
    for (const { route, segments } of this.compiled) {
      const pathParameters = matchSegments(segments, parts);
      if (!pathParameters) continue;
      if (route.method === method) return { kind: "found", route, pathParameters };
      allowed.push(route.method);
    }
    return allowed.length > 0 ? { kind: "wrong-method", allowed } : { kind: "not-found" };
  }
}

function matchSegments(
  segments: CompiledRoute["segments"],
  parts: string[],
): Record<string, string> | undefined {
  if (segments.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i];
    if (typeof segment === "string") {
      if (segment !== parts[i]) return undefined;
    } else {
      if (parts[i] === "") return undefined;
      params[segment.param] = decodeSegment(parts[i]);
    }
  }
  return params;
}

function decodeSegment(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new FloeError("INVALID_REQUEST", `Malformed percent-encoding in path segment '${raw}'.`);
  }
}
