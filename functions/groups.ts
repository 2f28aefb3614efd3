import type { ApiHandler } from "../src/api/api-handler.js";
import { lambdaHandler } from "./lambda-handler.js";

/** The consumer-groups function: heartbeat, offset commit/fetch/reset, list, describe and delete under /v1/groups, plus /v1/health and /v1/openapi.json. */
export const createHandler = (env: NodeJS.ProcessEnv = process.env): ApiHandler =>
  lambdaHandler("groups", env);

export const handler = createHandler();
