/**
 * One case of the API's fuzz tier: a well-formed request for an operation of the OpenAPI document
 * (from api-request-arbitrary) with zero to three mutations applied (request-mutations), written out
 * as the exact bytes to send, with notes saying what was done, for a failure message to replay.
 */
import fc from "fast-check";
import {
  type BodyVariant,
  type Draft,
  draftFor,
  type Operation,
  operationsOf,
  type Pools,
  schemaContext,
} from "./api-request-arbitrary.js";
import { type Mutation, mutateDraft, mutateRequest, mutationFor, writeDraft } from "./request-mutations.js";
import type { RawRequest } from "./raw-http.js";

export interface FuzzCase {
  /** The operation the request was generated for (mutations may send it elsewhere). */
  operation: Operation;
  request: RawRequest;
  /** What each mutation did; empty for a request as generated. */
  notes: string[];
}

function build(draft: Draft, mutations: Mutation[]): FuzzCase {
  const mutated = mutateDraft(draft, mutations);
  const written = mutateRequest(writeDraft(mutated.draft), mutated.draft, mutations);
  return {
    operation: draft.operation,
    request: written.request,
    notes: [...mutated.notes, ...written.notes],
  };
}

/**
 * Operations that write or read records and offsets weigh more than the ones that only list or
 * describe: they reach the state a refusal must leave alone. Any other operation weighs 1.
 */
const WEIGHTS: Record<string, number> = {
  produce: 4,
  produceBatches: 2,
  produceMany: 2,
  fetch: 3,
  fetchMany: 2,
  createTopic: 2,
  updateTopic: 2,
  commitOffsets: 2,
  resetOffsets: 2,
  heartbeat: 2,
};

/** Cases for every operation of the document, one in five sent as generated, the rest mutated. */
export function fuzzCases(
  document: Record<string, unknown>,
  pools: Pools,
  variants: Record<string, BodyVariant> = {},
): fc.Arbitrary<FuzzCase> {
  const context = schemaContext(document, pools);
  const perOperation = operationsOf(document).map((operation) => ({
    weight: WEIGHTS[operation.operationId] ?? 1,
    arbitrary: fc
      .tuple(
        draftFor(operation, context, pools, variants[operation.operationId]),
        fc.oneof(
          { weight: 1, arbitrary: fc.constant<Mutation[]>([]) },
          { weight: 4, arbitrary: fc.array(mutationFor(operation), { minLength: 1, maxLength: 3 }) },
        ),
      )
      .map(([draft, mutations]) => build(draft, mutations)),
  }));
  return fc.oneof(...perOperation);
}

/** The request's body as text for a message: escaped, cut at `max` characters. */
export function bodyPreview(body: Uint8Array | undefined, max = 300): string {
  if (body === undefined) return "(no body)";
  const text = Buffer.from(body.subarray(0, max)).toString("latin1");
  const escaped = JSON.stringify(text);
  return body.length > max ? `${escaped}… (${body.length} bytes)` : escaped;
}

/** The case as a reproduction: method, path, headers, body and the mutations. */
export function describeCase(c: FuzzCase): string {
  const path =
    c.request.path.length > 300
      ? `${c.request.path.slice(0, 300)}…(${c.request.path.length} chars)`
      : c.request.path;
  return [
    `${c.request.method} ${path}`,
    `  headers ${JSON.stringify(c.request.headers)}`,
    `  body (one character a byte) ${bodyPreview(c.request.body)}`,
    `  generated for ${c.operation.operationId}; mutations: ${c.notes.length > 0 ? c.notes.join(", ") : "none"}`,
  ].join("\n");
}
