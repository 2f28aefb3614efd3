import { randomUUID } from "node:crypto";
import type { Broker } from "../broker/broker.js";
import { FloeError } from "../errors.js";
import type { MetaStore } from "../storage/ports.js";
import { ASSIGNORS } from "./assignor.js";
import { ExpirySweeps } from "./expiry-sweeps.js";
import { DecodedMetaCache } from "./group-records.js";
import type { GroupContext } from "./group-context.js";
import { deleteGroup } from "./group-deletion.js";
import { describeGroup, listGroups } from "./group-description.js";
import { heartbeat } from "./heartbeat.js";
import { commitOffsets } from "./offset-commit.js";
import { type OffsetDeletion, deleteOffsets } from "./offset-deletion.js";
import { fetchOffsets } from "./offset-fetch.js";
import { resetOffsets } from "./offset-reset.js";
import type {
  AssignorName,
  CommitRequest,
  CommittedOffset,
  GroupDescription,
  GroupListing,
  GroupOffset,
  HeartbeatRequest,
  HeartbeatResponse,
  PlannedOffset,
  ResetOptions,
  ResetRequest,
  TopicPartitions,
} from "./types.js";

export interface GroupCoordinatorOptions {
  meta: MetaStore;
  broker: Broker;
  clock?: () => number;
  /** Kafka's group.consumer.session.timeout.ms. */
  sessionTimeoutMs?: number;
  /** Kafka's group.consumer.heartbeat.interval.ms. */
  heartbeatIntervalMs?: number;
  /** Kafka's group.consumer.assignors (the first, which is the default). */
  assignor?: AssignorName;
  /** For members that send none: Kafka's max.poll.interval.ms default. */
  rebalanceTimeoutMs?: number;
  random?: () => number;
  /** Member ids and group incarnations; a UUID by default. */
  newId?: () => string;
}

/**
 * The consumer-group coordinator (architecture §6, KIP-848): the server assigns, members heartbeat.
 * Stateless as far as correctness goes: every call reads the group from the MetaStore and changes it
 * with conditional writes, so any number of instances (one per Lambda container) can serve the same
 * group at once. Time is the injected clock; sessions expire lazily, when an operation reads the
 * lapsed member's item (the only state kept here is when to next read the whole group for that).
 */
export class GroupCoordinator {
  private readonly ctx: GroupContext;

  constructor(options: GroupCoordinatorOptions) {
    const sessionTimeoutMs = options.sessionTimeoutMs ?? 45_000;
    const heartbeatIntervalMs = options.heartbeatIntervalMs ?? 5_000;
    const rebalanceTimeoutMs = options.rebalanceTimeoutMs ?? 300_000;
    for (const [name, value] of Object.entries({
      sessionTimeoutMs,
      heartbeatIntervalMs,
      rebalanceTimeoutMs,
    })) {
      if (!Number.isInteger(value) || value < 1) {
        throw new FloeError(
          "INVALID_CONFIG",
          `${name} must be a positive integer of milliseconds, got ${value}.`,
        );
      }
    }
    // Kafka refuses the same: a member would be expired between two of its own heartbeats.
    if (heartbeatIntervalMs >= sessionTimeoutMs) {
      throw new FloeError("INVALID_CONFIG", "heartbeatIntervalMs must be lower than sessionTimeoutMs.");
    }
    const assignor = ASSIGNORS[options.assignor ?? "uniform"];
    if (!assignor)
      throw new FloeError("INVALID_CONFIG", `Unknown assignor '${options.assignor}'; use uniform or range.`);
    this.ctx = {
      meta: options.meta,
      broker: options.broker,
      clock: options.clock ?? Date.now,
      newId: options.newId ?? randomUUID,
      sessionTimeoutMs,
      heartbeatIntervalMs,
      rebalanceTimeoutMs,
      assignor,
      retry: { maxConflicts: 60, backoffBaseMs: 5, backoffMaxMs: 250, random: options.random ?? Math.random },
      sweeps: new ExpirySweeps(sessionTimeoutMs),
      metas: new DecodedMetaCache(),
    };
  }

  /** Join (memberEpoch 0), heartbeat, or leave (-1); see HeartbeatRequest. */
  heartbeat(groupId: string, request: HeartbeatRequest): Promise<HeartbeatResponse> {
    return heartbeat(this.ctx, groupId, request);
  }

  /** Commits offsets (the next record to read) as a member, or standalone while the group is empty. */
  commitOffsets(groupId: string, request: CommitRequest): Promise<CommittedOffset[]> {
    return commitOffsets(this.ctx, groupId, request);
  }

  /** Committed offsets with lag, all or for some topics; empty for an unknown group. */
  fetchOffsets(groupId: string, topics?: string[]): Promise<GroupOffset[]> {
    return fetchOffsets(this.ctx, groupId, topics);
  }

  describe(groupId: string): Promise<GroupDescription> {
    return describeGroup(this.ctx, groupId);
  }

  list(): Promise<GroupListing[]> {
    return listGroups(this.ctx);
  }

  /** Plans (dryRun) or applies new offsets for one topic of an empty group. */
  resetOffsets(groupId: string, request: ResetRequest, options: ResetOptions = {}): Promise<PlannedOffset[]> {
    return resetOffsets(this.ctx, groupId, request, options);
  }

  delete(groupId: string): Promise<void> {
    return deleteGroup(this.ctx, groupId);
  }

  /** Deletes committed offsets of partitions whose topic no member subscribes to (Kafka's OffsetDelete). */
  deleteOffsets(groupId: string, partitions: TopicPartitions[]): Promise<OffsetDeletion[]> {
    return deleteOffsets(this.ctx, groupId, partitions);
  }
}
