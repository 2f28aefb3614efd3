/**
 * What the API's fuzz tier holds every answer to: no 5xx and no dropped connection; a refusal (4xx)
 * has a status the operation documents (or one any route may answer: 400, 404, 405, 413, 415) and
 * the `{"error":{code,message,retriable}}` body, at most 16 KiB, with a Kafka error code of that
 * status; a refused request changes nothing.
 *
 * "Changes nothing" is checked in batches: a state read costs several requests, so one read covers
 * every refusal since the last one, and is taken only before a request that may change state
 * (anything but a read) or after an accepted one. A refused read and the refusals before it are
 * thus checked together, by the next read of the state.
 */
import { statusForCode } from "../../src/api/error-status.js";
import type { KafkaErrorCode } from "../../src/errors.js";
import type { Operation } from "./api-request-arbitrary.js";
import { captureState, type StateScope, stateDifference } from "./api-state.js";
import { describeCase, type FuzzCase } from "./http-fuzz-case.js";
import type { RawHttpClient, RawOutcome } from "./raw-http.js";

/** Statuses any route may answer: a bad request, no such route, method or media type, too large. */
export const COMMON_REFUSALS: ReadonlySet<number> = new Set([400, 404, 405, 413, 415]);

/** How long a request that may long-poll is given before the tier moves on, as a consumer giving up. */
const LONG_POLL_PATIENCE_MS = 1_000;
/** Any other request: a guard against a hang, not a speed check. */
const PATIENCE_MS = 120_000;

/**
 * An error body's bound, whatever the request held: a refusal that echoes what it was sent grows
 * with the request, up to past what Lambda can answer (6 MB).
 */
const MAX_ERROR_BODY_BYTES = 16 * 1024;

/** Refusals listed when a batch of them changed the state. */
const MAX_CULPRITS_SHOWN = 30;

const LONG_POLL_OPERATIONS = new Set(["fetch", "fetchMany"]);

/** The operation the server's router would give the request to, as it matches: one segment per parameter. */
export function routedOperation(
  operations: readonly Operation[],
  method: string,
  path: string,
): Operation | undefined {
  const parts = path.split("?")[0].split("/").slice(1);
  if (parts.length > 1 && parts[parts.length - 1] === "") parts.pop();
  return operations.find((op) => {
    if (op.method !== method) return false;
    const template = op.template.split("/").slice(1);
    return (
      template.length === parts.length &&
      template.every((s, i) => (s.startsWith("{") ? parts[i] !== "" : s === parts[i]))
    );
  });
}

function mayLongPoll(c: FuzzCase, operation: Operation | undefined): boolean {
  if (!operation || !LONG_POLL_OPERATIONS.has(operation.operationId)) return false;
  const body = c.request.body ? Buffer.from(c.request.body).toString("latin1") : "";
  return c.request.path.includes("maxWaitMs") || body.includes("maxWaitMs");
}

/** Only these reads may change state: describing a topic may auto-create it. */
function mayChangeState(c: FuzzCase, operation: Operation | undefined): boolean {
  const method = c.request.method;
  if (method !== "GET" && method !== "HEAD" && method !== "OPTIONS") return true;
  return operation?.operationId === "describeTopic";
}

export interface Answer {
  outcome: RawOutcome;
  /** The operation the router gave it to, if any. */
  operation?: Operation;
}

export async function send(
  client: RawHttpClient,
  operations: readonly Operation[],
  c: FuzzCase,
): Promise<Answer> {
  const operation = routedOperation(operations, c.request.method, c.request.path);
  const patience = mayLongPoll(c, operation) ? LONG_POLL_PATIENCE_MS : PATIENCE_MS;
  return { outcome: await client.send(c.request, patience), operation };
}

function isRefusal(answer: Answer): boolean {
  return answer.outcome.kind === "answer" && answer.outcome.status >= 400 && answer.outcome.status < 500;
}

/** What is wrong with the answer, or undefined when nothing is. */
export function answerViolation(c: FuzzCase, answer: Answer): string | undefined {
  const { outcome, operation } = answer;
  if (outcome.kind === "error") return `no answer: the connection failed (${outcome.message})`;
  if (outcome.kind === "timeout") {
    return mayLongPoll(c, operation) ? undefined : `no answer within ${PATIENCE_MS} ms`;
  }
  const { status } = outcome;
  const text = outcome.body.toString("utf8");
  if (status >= 500) return `answered ${status}: ${text.slice(0, 500)}`;
  if (status < 400) return undefined;
  const documented = operation?.documentedStatuses ?? new Set<number>();
  if (!documented.has(status) && !COMMON_REFUSALS.has(status)) {
    return `answered ${status}, which ${operation ? `${operation.operationId} does not document` : "no route documents"}: ${text.slice(0, 300)}`;
  }
  if (c.request.method === "HEAD") return undefined;
  if (outcome.body.length > MAX_ERROR_BODY_BYTES) {
    return `answered ${status} with an error body of ${outcome.body.length} bytes (at most ${MAX_ERROR_BODY_BYTES}): ${text.slice(0, 300)}`;
  }
  let body: { error?: { code?: unknown; message?: unknown; retriable?: unknown } };
  try {
    body = JSON.parse(text);
  } catch {
    return `answered ${status} without a JSON error body: ${JSON.stringify(text.slice(0, 300))}`;
  }
  const error = body?.error;
  if (
    typeof error?.code !== "string" ||
    typeof error.message !== "string" ||
    typeof error.retriable !== "boolean"
  ) {
    return `answered ${status} without {"error":{code,message,retriable}}: ${text.slice(0, 300)}`;
  }
  // statusForCode is total over Kafka's codes; any other string (even "toString") maps to no 4xx.
  if (statusForCode(error.code as KafkaErrorCode) !== status) {
    return `answered ${status} with code ${error.code}, which is not a Kafka error code of status ${status}`;
  }
  return undefined;
}

/**
 * Tracks state reads around the requests sent, in order: `before` each request, `after` its answer,
 * `flush` at the end; each returns a violation when a refused request changed the state.
 *
 * Refusals are checked together: the state is read before a request that is expected to be accepted
 * and may change state (one sent as generated), so every refusal since the last read is compared
 * with it. A mutated request is expected to be refused and needs no read before it; when one is
 * accepted after all, the refusals before it are sent again between two reads (together, or one at
 * a time if one of them is accepted this time), so none goes unchecked.
 */
export class StateLedger {
  private baseline: string | undefined;
  private unchecked: FuzzCase[] = [];
  /** State reads taken and refusals sent again, for the tier's figures. */
  reads = 0;
  replays = 0;

  constructor(
    private readonly client: RawHttpClient,
    private readonly scope: StateScope,
    private readonly operations: readonly Operation[],
  ) {}

  private async read(): Promise<string> {
    this.reads++;
    return captureState(this.client, this.scope);
  }

  async before(c: FuzzCase): Promise<string | undefined> {
    if (this.baseline === undefined) {
      this.baseline = await this.read();
      return undefined;
    }
    const operation = routedOperation(this.operations, c.request.method, c.request.path);
    if (this.unchecked.length > 0 && c.notes.length === 0 && mayChangeState(c, operation))
      return this.flush();
    return undefined;
  }

  async after(c: FuzzCase, answer: Answer): Promise<string | undefined> {
    if (isRefusal(answer)) {
      this.unchecked.push(c);
      return undefined;
    }
    // Accepted (or no answer) and maybe a change: legitimate, so the state is read again before the
    // next check; refusals sent since the last read are checked one by one first.
    if (answer.outcome.kind === "answer" && !mayChangeState(c, answer.operation)) return undefined;
    const pending = this.unchecked;
    this.unchecked = [];
    this.baseline = undefined;
    return pending.length > 0 ? this.checkAgain(pending) : undefined;
  }

  /**
   * Sends refusals again between two reads: together first; if one of them is accepted this time
   * (the state moved on), each alone.
   */
  private async checkAgain(refusals: FuzzCase[], alone = false): Promise<string | undefined> {
    this.replays += refusals.length;
    let before = await this.read();
    const refused: FuzzCase[] = [];
    for (const c of refusals) {
      const answer = await send(this.client, this.operations, c);
      if (isRefusal(answer)) {
        refused.push(c);
        if (!alone) continue;
        const after = await this.read();
        if (after !== before) {
          return `A refused request changed the state: ${stateDifference(before, after)}\n${describeCase(c)}`;
        }
      } else if (answer.outcome.kind !== "answer" || mayChangeState(c, answer.operation)) {
        if (!alone) return this.checkAgain(refusals, true);
        before = await this.read();
      }
    }
    if (alone || refused.length === 0) return undefined;
    const after = await this.read();
    if (after === before) return undefined;
    return [
      `A refused request changed the state: ${stateDifference(before, after)}`,
      `Found when these ${refused.length} refusals were sent again together; one of them did it${refused.length > MAX_CULPRITS_SHOWN ? ` (the last ${MAX_CULPRITS_SHOWN} shown)` : ""}:`,
      ...refused.slice(-MAX_CULPRITS_SHOWN).map(describeCase),
    ].join("\n");
  }

  /** Compares the state with the last read, when refusals were sent since. */
  async flush(): Promise<string | undefined> {
    if (this.unchecked.length === 0 || this.baseline === undefined) return undefined;
    const now = await this.read();
    const before = this.baseline;
    const culprits = this.unchecked;
    this.baseline = now;
    this.unchecked = [];
    if (now === before) return undefined;
    return [
      `A refused request changed the state: ${stateDifference(before, now)}`,
      "Found on the state read before the next request (the case fast-check reports); one of these",
      `${culprits.length} refusals since the previous read did it${culprits.length > MAX_CULPRITS_SHOWN ? ` (the last ${MAX_CULPRITS_SHOWN} shown)` : ""}:`,
      ...culprits.slice(-MAX_CULPRITS_SHOWN).map(describeCase),
    ].join("\n");
  }
}
