import { z } from "zod";
import type { KafkaErrorCode } from "../errors.js";
import { statusForCode } from "./error-status.js";
import type { Route } from "./route.js";
import { apiSchemas } from "./schemas.js";

type JsonSchema = Record<string, unknown>;

const COMPONENTS = "#/components/schemas/";

function withoutDialect(schema: JsonSchema): JsonSchema {
  const { $schema: _dialect, $id: _id, ...rest } = schema;
  return rest;
}

/** A schema as used inside the document: a reference when it is a named component, else inline. */
function schemaRef(schema: z.ZodType): JsonSchema {
  const id = apiSchemas.get(schema)?.id;
  if (id) return { $ref: `${COMPONENTS}${id}` };
  return withoutDialect(
    z.toJSONSchema(schema, { io: "input", unrepresentable: "any", target: "draft-2020-12" }) as JsonSchema,
  );
}

function parameters(schema: z.ZodType | undefined, location: "path" | "query"): JsonSchema[] {
  if (!schema) return [];
  const object = z.toJSONSchema(schema, { io: "input", unrepresentable: "any", target: "draft-2020-12" }) as {
    properties?: Record<string, JsonSchema>;
    required?: string[];
  };
  return Object.entries(object.properties ?? {}).map(([name, property]) => {
    const { description, ...rest } = property;
    return {
      name,
      in: location,
      required: location === "path" || (object.required ?? []).includes(name),
      ...(description ? { description } : {}),
      schema: rest,
    };
  });
}

function errorResponses(codes: readonly KafkaErrorCode[]): Record<string, JsonSchema> {
  const byStatus = new Map<number, Set<string>>();
  const add = (status: number, code: string) => {
    let set = byStatus.get(status);
    if (!set) byStatus.set(status, (set = new Set()));
    set.add(code);
  };
  for (const code of codes) add(statusForCode(code), code);
  add(400, "INVALID_REQUEST");
  add(500, "UNKNOWN_SERVER_ERROR");
  add(503, "KAFKA_STORAGE_ERROR");
  const out: Record<string, JsonSchema> = {};
  for (const [status, set] of [...byStatus].sort(([a], [b]) => a - b)) {
    out[String(status)] = {
      description: [...set].join(", "),
      content: { "application/json": { schema: { $ref: `${COMPONENTS}ErrorResponse` } } },
    };
  }
  return out;
}

/**
 * Raw bytes in OpenAPI 3.1: a string whose content is the media type itself. A request body of
 * no bytes holds no batch and is refused, so request bodies say minLength 1.
 */
function binaryContent(mediaType: string, description: string, request = false): JsonSchema {
  return {
    schema: {
      type: "string",
      contentMediaType: mediaType,
      ...(request ? { minLength: 1 } : {}),
      description,
    },
  };
}

/**
 * The OpenAPI 3.1 document of the API, generated from the route table and the zod schemas the
 * routes validate with (OpenAPI 3.1's schema dialect is JSON Schema 2020-12, zod's target).
 */
export function buildOpenApiDocument(routes: readonly Route[]): JsonSchema {
  const { schemas } = z.toJSONSchema(apiSchemas, {
    io: "input",
    unrepresentable: "any",
    target: "draft-2020-12",
    uri: (id) => `${COMPONENTS}${id}`,
  }) as { schemas: Record<string, JsonSchema> };
  const components: Record<string, JsonSchema> = {};
  for (const [id, schema] of Object.entries(schemas)) components[id] = withoutDialect(schema);
  // zod cannot express "any JSON value but present"; in JSON Schema that is the empty schema.
  components.JsonValue = { description: "Any JSON value." };

  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of routes) {
    const responses: Record<string, JsonSchema> = errorResponses(route.errors);
    for (const [status, response] of Object.entries(route.responses)) {
      const content: Record<string, JsonSchema> = {};
      if (response.schema) content["application/json"] = { schema: schemaRef(response.schema) };
      if (response.binary)
        content[response.binary.mediaType] = binaryContent(
          response.binary.mediaType,
          response.binary.description,
        );
      responses[status] = {
        description: response.description,
        ...(Object.keys(content).length > 0 ? { content } : {}),
      };
    }
    const operation: JsonSchema = {
      operationId: route.operationId,
      summary: route.summary,
      ...(route.description ? { description: route.description } : {}),
      tags: [route.group],
      parameters: [...parameters(route.params, "path"), ...parameters(route.query, "query")],
      ...(route.body
        ? {
            requestBody: {
              required: true,
              content: { "application/json": { schema: schemaRef(route.body) } },
            },
          }
        : {}),
      ...(route.binaryBody
        ? {
            requestBody: {
              required: true,
              content: {
                [route.binaryBody.mediaType]: binaryContent(
                  route.binaryBody.mediaType,
                  route.binaryBody.description,
                  true,
                ),
              },
            },
          }
        : {}),
      responses,
    };
    paths[route.path] ??= {};
    paths[route.path][route.method.toLowerCase()] = operation;
  }

  return {
    openapi: "3.1.0",
    jsonSchemaDialect: "https://json-schema.org/draft/2020-12/schema",
    info: {
      title: "Floe",
      version: "1",
      description:
        'A serverless, Kafka-style event bus whose log lives in object storage. Errors answer {"error":{"code","message","retriable"}} with Kafka\'s error names as codes.',
    },
    paths,
    components: { schemas: components },
  };
}
