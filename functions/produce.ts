import type { ApiHandler } from "../src/api/api-handler.js";
import { lambdaHandler } from "./lambda-handler.js";

/** The produce function: POST /v1/topics/{topic}/records, plus /v1/health and /v1/openapi.json. */
export const createHandler = (env: NodeJS.ProcessEnv = process.env): ApiHandler =>
  lambdaHandler("produce", env);

export const handler = createHandler();
