import { createRequire } from "node:module";
import * as platformatic from "@platformatic/kafka";
import { Reader } from "@platformatic/kafka";
import { expect } from "vitest";

// KafkaJS's and @platformatic/kafka's own encoders and decoders: two implementations of the Kafka
// protocol written independently of ours, which the codec tests check ours against. KafkaJS speaks
// the non-flexible versions; @platformatic/kafka those and the flexible ones Kafka 4 clients use.

const require = createRequire(import.meta.url);

/** KafkaJS's request encoder for an API at a version, e.g. `kafkajsRequest("metadata", 6)`. */
export const kafkajsRequest = (api: string, version: number) =>
  require(`kafkajs/src/protocol/requests/${api}/v${version}/request.js`);

/** KafkaJS's response decoder for an API at a version, e.g. `kafkajsResponse("metadata", 6).decode(bytes)`. */
export const kafkajsResponse = (api: string, version: number) =>
  require(`kafkajs/src/protocol/requests/${api}/v${version}/response.js`);

/** A KafkaJS request body, encoded by its own encoder. */
export async function kafkajsBytes(request: { encode: () => Promise<{ buffer: Buffer }> }): Promise<Buffer> {
  return (await request.encode()).buffer;
}

/** One of @platformatic/kafka's per-API-version modules (`createTopicsV7`, `joinGroupV9`, ...). */
export interface PlatformaticApi {
  createRequest: (...args: never[]) => { buffer: Buffer };
  parseResponse: (correlationId: number, apiKey: number, apiVersion: number, reader: Reader) => unknown;
}

/** @platformatic/kafka's module for an API at a version, e.g. `platformaticApi("joinGroup", 9)`. */
export function platformaticApi(name: string, version: number): PlatformaticApi {
  const found = (platformatic as unknown as Record<string, PlatformaticApi | undefined>)[
    `${name}V${version}`
  ];
  if (!found) throw new Error(`@platformatic/kafka has no ${name}V${version}`);
  return found;
}

/**
 * A @platformatic/kafka request body, encoded by its own writer: of a module
 * (`platformaticBytes(createTopicsV7, ...)`) or of an API by name and version
 * (`platformaticBytes("joinGroup", 9, ...)`).
 */
export function platformaticBytes<A extends PlatformaticApi>(
  api: A,
  ...args: Parameters<A["createRequest"]>
): Buffer;
export function platformaticBytes(name: string, version: number, ...args: unknown[]): Buffer;
export function platformaticBytes(api: PlatformaticApi | string, ...args: unknown[]): Buffer {
  const [found, rest] =
    typeof api === "string" ? [platformaticApi(api, args[0] as number), args.slice(1)] : [api, args];
  return (found.createRequest as (...a: unknown[]) => { buffer: Buffer })(...rest).buffer;
}

/** A response as @platformatic/kafka parsed it: untyped, as the tests check it field by field. */
// biome-ignore lint/suspicious/noExplicitAny: platformatic's parsed responses are checked field by field by the tests.
export type PlatformaticParsed = any;

/**
 * Our response as @platformatic/kafka reads it (of a module, or of an API by name at `version`),
 * which must consume every byte; it throws a ResponseError holding the response on any error code,
 * and that response is answered.
 */
export function platformaticParse(
  api: PlatformaticApi | string,
  apiKey: number,
  version: number,
  bytes: Uint8Array,
): PlatformaticParsed {
  const found = typeof api === "string" ? platformaticApi(api, version) : api;
  const reader = Reader.from(Buffer.from(bytes));
  try {
    const parsed = found.parseResponse(1, apiKey, version, reader);
    expect(reader.position).toBe(bytes.length);
    return parsed;
  } catch (e) {
    const response = (e as { response?: unknown }).response;
    if (response === undefined) throw e;
    expect(reader.position).toBe(bytes.length);
    return response;
  }
}
