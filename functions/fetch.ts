import type { ApiHandler } from "../src/api/api-handler.js";
import { lambdaHandler } from "./lambda-handler.js";

/** The fetch function: GET …/partitions/{partition}/records, POST /v1/fetch, GET …/partitions/{partition}/offsets, plus /v1/health and /v1/openapi.json. */
export const createHandler = (env: NodeJS.ProcessEnv = process.env): ApiHandler =>
  lambdaHandler("fetch", env);

export const handler = createHandler();
