import type {
  CommittedOffset,
  GroupOffset,
  HeartbeatRequest,
  HeartbeatResponse,
  OffsetToCommit,
} from "../groups/types.js";
import { groupSegment, type HttpTransport } from "./http-transport.js";

const JOIN = 0;
const LEAVE = -1;

/**
 * One consumer's standing with its group's coordinator: its member id and epoch, and the requests
 * that carry them. Heartbeats and commits go one at a time (decision 0005): a heartbeat is never
 * sent while an earlier one may still be in flight, and a commit always carries the epoch of the
 * last answer, so it is refused only when the group really moved on.
 */
export class GroupMember {
  private memberIdValue: string | undefined;
  private epoch = JOIN;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly transport: HttpTransport,
    readonly groupId: string,
  ) {}

  get memberId(): string | undefined {
    return this.memberIdValue;
  }

  get memberEpoch(): number {
    return this.epoch;
  }

  /** Whether the next heartbeat joins (after start, a fence, or a lost session). */
  get joining(): boolean {
    return this.epoch === JOIN;
  }

  /** Joins again on the next heartbeat, owning nothing; the member id is kept. */
  rejoin(): void {
    this.epoch = JOIN;
  }

  /**
   * The transport retries an attempt that timed out with the same body, and the loop sends the next
   * heartbeat after one that failed, while the earlier attempt may still reach the coordinator.
   * That is safe (decision 0005): a late copy carries an epoch the member has left (answered or
   * fenced, never releasing anything) or the current one with what the member held when it was
   * sent, which at that epoch it still holds or was told to give up and has given up.
   */
  heartbeat(request: Omit<HeartbeatRequest, "memberId" | "memberEpoch">): Promise<HeartbeatResponse> {
    return this.serially(async () => {
      const answer = await this.transport.request<HeartbeatResponse>("POST", this.path("heartbeat"), {
        body: { ...request, memberId: this.memberIdValue, memberEpoch: this.epoch },
      });
      this.memberIdValue = answer.memberId;
      this.epoch = answer.memberEpoch;
      return answer;
    });
  }

  /** Leaves the group: the coordinator frees our partitions at once. */
  leave(): Promise<void> {
    return this.serially(async () => {
      if (this.memberIdValue === undefined || this.epoch === JOIN) return;
      try {
        await this.transport.request("POST", this.path("heartbeat"), {
          body: { memberId: this.memberIdValue, memberEpoch: LEAVE },
        });
      } finally {
        this.epoch = JOIN;
        // The next join asks for a new id: a late copy of this leave (a retried attempt landing
        // after the consumer ran again) then names a member that is gone, not the one consuming.
        this.memberIdValue = undefined;
      }
    });
  }

  /** As the member when `asMember`, else standalone (allowed only while the group has no members). */
  commit(
    offsets: OffsetToCommit[],
    asMember: boolean,
  ): Promise<{ memberId: string | null; memberEpoch: number | null }> {
    return this.serially(async () => {
      const identity =
        asMember && this.memberIdValue !== undefined
          ? { memberId: this.memberIdValue, memberEpoch: this.epoch }
          : { memberId: null, memberEpoch: null };
      await this.transport.request<{ offsets: CommittedOffset[] }>("POST", this.path("offsets"), {
        body: {
          ...(identity.memberId === null ? {} : identity),
          offsets,
        },
      });
      return identity;
    });
  }

  /** The group's committed offsets for these topics; empty when the group does not exist yet. */
  async committed(topics: string[]): Promise<GroupOffset[]> {
    const answer = await this.transport.request<{ offsets: GroupOffset[] }>("GET", this.path("offsets"), {
      query: { topic: topics.join(",") },
    });
    return answer.offsets;
  }

  private path(rest: string): string {
    return `/v1/groups/${groupSegment(this.groupId)}/${rest}`;
  }

  private serially<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => {});
    return next;
  }
}
