import { FloeError } from "../errors.js";
import type { FloeClientError } from "./client-error.js";
import type { PartitionSequence, ProducerIdentities, Stamp, Ticket } from "./idempotence.js";

/** What an idempotent request does after a failed attempt. */
export type NextStep = "wait" | "restamp" | "backoff" | "fail";

/**
 * The idempotent producer's rules for one partition's failed attempt (see the Producer's class
 * comment): wait for an earlier request, stamp it again under a new identity, back off and resend
 * the same stamp, or fail.
 */
export function afterFailure(
  identities: ProducerIdentities,
  sequence: PartitionSequence,
  ticket: Ticket,
  stamp: Stamp,
  error: unknown,
): NextStep {
  if (!(error instanceof FloeError)) return "fail";
  switch (error.code) {
    case "INVALID_PRODUCER_EPOCH":
    case "PRODUCER_FENCED": {
      if (identities.supersededByUs(stamp.identity)) {
        // Our own renewal fenced it; it goes again under the new epoch unless it may have landed already.
        if (ticket.uncertain && !ticket.restamp) return "fail";
        sequence.reset(ticket);
        return "restamp";
      }
      identities.fence(error as FloeClientError);
      return "fail";
    }
    case "UNKNOWN_PRODUCER_ID":
      sequence.reset(ticket);
      return "restamp";
    case "OUT_OF_ORDER_SEQUENCE_NUMBER":
      if (ticket.restamp) return "restamp";
      // An earlier request has not landed yet: resend once it has.
      if (sequence.hasEarlierUnresolved(ticket)) return "wait";
      sequence.reset(ticket);
      return "restamp";
    default:
      // Marked by an earlier request's refusal: it can never land under its stamp.
      if (ticket.restamp) return "restamp";
      if (!error.retriable) return "fail";
      if (mayHaveAppended(error)) ticket.uncertain = true;
      return "backoff";
  }
}

/**
 * Whether a failed attempt may have appended its records anyway: no answer came (a timeout, a lost
 * connection), or the server failed in a way that leaves the commit's outcome open.
 */
export function mayHaveAppended(error: FloeError): boolean {
  const status = (error as { status?: number }).status;
  if (status === undefined) return true;
  return status >= 500 && error.code !== "NOT_LEADER_OR_FOLLOWER";
}
