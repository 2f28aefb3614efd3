import type { Broker } from "../broker/broker.js";
import type { AppendRequest } from "../broker/append-prepare.js";
import type { RecordOffset } from "../broker/types.js";
import type { GroupCoordinator } from "../groups/coordinator.js";
import { MessageCodec } from "./protocol/codec.js";
import type { MessageInput, MessageSpec, MessageValue } from "./protocol/spec.js";

/** Where a Kafka client reaches this process: what Metadata and FindCoordinator answer. */
export interface AdvertisedNode {
  nodeId: number;
  host: string;
  port: number;
}

/**
 * What every Kafka API handler works with: the same Broker, group coordinator and group commit as
 * the HTTP API, so a record produced over one is read over the other. No socket in sight.
 */
export interface KafkaCore {
  broker: Broker;
  groups: GroupCoordinator;
  /** The group commit (acked means committed); produce requests go through it in arrival order. */
  produce(request: AppendRequest): Promise<RecordOffset[]>;
  /** This process, the leader of every partition and the coordinator of every group (agents are stateless). */
  node(): AdvertisedNode;
  clusterId: string;
}

/** One request as a handler sees it. */
export interface RequestContext {
  core: KafkaCore;
  apiVersion: number;
  clientId: string | null;
  /** Aborted when the connection closes: a produce not yet committed then never commits. */
  signal: AbortSignal;
  /** Aborted when the listener stops: a long-poll answers with what it has instead of holding shutdown. */
  stopping?: AbortSignal;
  /** Every API this listener serves, for ApiVersions. */
  served: readonly KafkaApi[];
}

/** A handler's answer when Kafka sends none (Produce with acks=0). */
export const NO_RESPONSE = Symbol("no response");

export interface KafkaApi<Req extends MessageSpec = MessageSpec, Res extends MessageSpec = MessageSpec> {
  readonly apiKey: number;
  readonly name: string;
  readonly request: MessageCodec<Req>;
  readonly response: MessageCodec<Res>;
  handle(
    request: MessageValue<Req>,
    ctx: RequestContext,
  ): Promise<MessageInput<Res> | typeof NO_RESPONSE> | MessageInput<Res> | typeof NO_RESPONSE;
  /**
   * The answer when `handle` failed unexpectedly. Default: the top-level errorCode (and
   * errorMessage) set, everything else empty; APIs without a top-level code must supply one.
   */
  errorResponse?(request: MessageValue<Req>, errorCode: number, message: string | null): MessageInput<Res>;
  /**
   * The lowest version ApiVersions advertises when it is below the lowest served (requests below
   * the served range still get UNSUPPORTED_VERSION); see Produce.
   */
  readonly advertisedMinVersion?: number;
}

/** Binds a request and response description to its handler, typed. */
export function defineApi<Req extends MessageSpec, Res extends MessageSpec>(
  request: Req,
  response: Res,
  api: Pick<KafkaApi<Req, Res>, "handle" | "errorResponse" | "advertisedMinVersion">,
): KafkaApi<Req, Res> {
  if (request.apiKey !== response.apiKey || request.validVersions !== response.validVersions) {
    throw new Error(`${request.name} and ${response.name} do not describe the same API versions`);
  }
  return {
    apiKey: request.apiKey,
    name: request.name.replace(/Request$/, ""),
    request: new MessageCodec(request),
    response: new MessageCodec(response),
    ...api,
  };
}

/** A list of differently typed APIs as the listener sees them (each keeps its own types inside). */
export function apiList(...apis: { readonly apiKey: number }[]): readonly KafkaApi[] {
  return apis as unknown as readonly KafkaApi[];
}
