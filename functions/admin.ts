import type { ApiHandler } from "../src/api/api-handler.js";
import { lambdaHandler } from "./lambda-handler.js";

/** The admin function: the /v1/topics admin routes, plus /v1/health and /v1/openapi.json. */
export const createHandler = (env: NodeJS.ProcessEnv = process.env): ApiHandler =>
  lambdaHandler("admin", env);

export const handler = createHandler();
