import { jsonResponse } from "../json-response.js";
import { buildOpenApiDocument } from "../openapi.js";
import { defineRoute, type Route } from "../route.js";

const documents = new WeakMap<readonly Route[], Record<string, unknown>>();

export const openApiRoute = defineRoute({
  method: "GET",
  path: "/v1/openapi.json",
  group: "common",
  operationId: "openApi",
  summary: "This API's OpenAPI 3.1 document, generated from the schemas the server validates with",
  responses: { 200: { description: "The OpenAPI document." } },
  errors: [],
  async handle({ routes }) {
    let document = documents.get(routes);
    if (!document) documents.set(routes, (document = buildOpenApiDocument(routes)));
    return jsonResponse(200, document);
  },
});
