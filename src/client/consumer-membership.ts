import type { HeartbeatRequest, HeartbeatResponse, TopicPartitions } from "../groups/types.js";
import { partitionKey, toTopicPartitions } from "./consumer-partitions.js";
import { Wakeup } from "./consumer-wakeup.js";
import type { GroupMember } from "./group-member.js";
import { isRetriable } from "./retry.js";

export interface Subscription {
  topics: string[];
  /** Every subscribed pattern as one regular expression; "" for none. */
  regex: string;
  /** Bumped on every change, so the next heartbeat carries it. */
  version: number;
}

/** What the heartbeat loop needs from its consumer. */
export interface MembershipContext {
  member: GroupMember;
  subscription(): Subscription;
  /** Exactly what the consumer is consuming now. */
  owned(): TopicPartitions[];
  /** Moves the consumer to this assignment; true when it gave partitions up. */
  reconcile(assignment: TopicPartitions[]): Promise<boolean>;
  /** Drops everything without committing: the group has moved on without us. */
  lose(): Promise<void>;
  clientId: string | undefined;
  rebalanceTimeoutMs: number | undefined;
  /** Overrides the interval the coordinator asks for. */
  heartbeatIntervalMs: number | undefined;
  sessionTimeoutMs: number;
  joined(answer: HeartbeatResponse): void;
  heartbeated(answer: HeartbeatResponse): void;
  crash(error: unknown, restart: boolean): void;
  backoffMs(attempt: number): number;
}

/**
 * KIP-848's member side: heartbeats, one at a time, each telling the coordinator exactly what the
 * consumer holds, and each answer acted on completely (partitions given up and committed, new ones
 * taken) before the next is sent. A heartbeat that gave something up is followed by another at
 * once, so the coordinator can hand those partitions on without waiting an interval.
 */
export class Membership {
  private readonly wakeup = new Wakeup();
  private stopping = false;
  private done: Promise<void> | undefined;
  private sentVersion = -1;
  private lastSuccess = Date.now();
  private failures = 0;
  private intervalMs = 5_000;
  private lastAnswer: HeartbeatResponse | undefined;
  /**
   * The assignment of the last answer, reported as owned even where taking a partition failed:
   * what the member reports at one epoch must never grow except by what the coordinator gave it
   * (decision 0005), and a partition taken on a later try would be such growth.
   */
  private accepted: TopicPartitions[] = [];

  constructor(private readonly ctx: MembershipContext) {}

  /** Joins (the first heartbeat and its assignment), then heartbeats in the background. */
  async start(): Promise<void> {
    this.stopping = false;
    this.sentVersion = -1;
    this.lastAnswer = undefined;
    this.accepted = [];
    this.ctx.member.rejoin();
    const answer = await this.send();
    const gaveUp = await this.reconcile(answer);
    this.done = this.loop(gaveUp || answer.assignment.length === 0 ? 0 : this.intervalMs);
  }

  /** The subscription changed: tell the coordinator now. */
  poke(): void {
    this.wakeup.wake();
  }

  /** Ends the loop after the heartbeat in hand has been acted on; leaving is the consumer's call. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wakeup.wake();
    await this.done;
  }

  private async loop(first: number): Promise<void> {
    let delay = first;
    while (!this.stopping) {
      await this.wakeup.wait(delay);
      if (this.stopping) break;
      try {
        delay = await this.beat();
      } catch (error) {
        // A refusal no retry cures (a bad subscription, say): nothing sensible is left to do.
        this.ctx.crash(error, false);
        return;
      }
    }
  }

  /** One heartbeat and its consequences; the delay before the next. */
  private async beat(): Promise<number> {
    let answer: HeartbeatResponse;
    const joining = this.ctx.member.joining;
    try {
      answer = await this.send();
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === "UNKNOWN_MEMBER_ID" || code === "FENCED_MEMBER_EPOCH") {
        // Our partitions may be someone else's already: give them up uncommitted and join again.
        await this.lose();
        this.ctx.member.rejoin();
        return 0;
      }
      if (!isRetriable(error)) throw error;
      if (Date.now() - this.lastSuccess > this.ctx.sessionTimeoutMs && this.ctx.owned().length > 0) {
        // The coordinator has expired us by now; consuming on would duplicate our successor's work.
        await this.lose();
        this.ctx.member.rejoin();
      }
      this.ctx.crash(error, true);
      return this.ctx.backoffMs(this.failures++);
    }
    try {
      // A rejoin is answered with nothing while what the member held is released (decision 0005):
      // the next heartbeat, which says so, goes at once.
      const gaveUp = await this.reconcile(answer);
      return gaveUp || (joining && answer.assignment.length === 0) ? 0 : this.intervalMs;
    } catch (error) {
      // Taking the new partitions failed (their offsets could not be read): the next answer retries.
      this.ctx.crash(error, true);
      return this.ctx.backoffMs(this.failures++);
    }
  }

  private async send(): Promise<HeartbeatResponse> {
    const subscription = this.ctx.subscription();
    const request: Omit<HeartbeatRequest, "memberId" | "memberEpoch"> = {
      ownedPartitions: this.owned(),
    };
    if (this.ctx.member.joining || subscription.version !== this.sentVersion) {
      request.subscribedTopics = subscription.topics;
      request.subscribedTopicRegex = subscription.regex;
      if (this.ctx.clientId !== undefined) request.clientId = this.ctx.clientId;
      if (this.ctx.rebalanceTimeoutMs !== undefined) request.rebalanceTimeoutMs = this.ctx.rebalanceTimeoutMs;
    }
    const answer = await this.ctx.member.heartbeat(request);
    this.sentVersion = subscription.version;
    this.lastSuccess = Date.now();
    this.failures = 0;
    this.intervalMs = this.ctx.heartbeatIntervalMs ?? answer.heartbeatIntervalMs;
    return answer;
  }

  /** What the consumer holds, plus what the last answer gave it that it has not managed to take yet. */
  private owned(): TopicPartitions[] {
    const keys = new Set<string>();
    const list: { topic: string; partition: number }[] = [];
    for (const { topic, partitions } of [...this.ctx.owned(), ...this.accepted]) {
      for (const partition of partitions) {
        const key = partitionKey(topic, partition);
        if (!keys.has(key)) {
          keys.add(key);
          list.push({ topic, partition });
        }
      }
    }
    return toTopicPartitions(list);
  }

  /** Drops everything uncommitted (the group moved on without us); the next heartbeat joins. */
  private async lose(): Promise<void> {
    this.accepted = [];
    await this.ctx.lose();
  }

  private async reconcile(answer: HeartbeatResponse): Promise<boolean> {
    // Reported from the next heartbeat on, with whatever the consumer still holds.
    this.accepted = answer.assignment;
    this.ctx.heartbeated(answer);
    const previous = this.lastAnswer;
    this.lastAnswer = answer;
    if (
      !previous ||
      previous.memberEpoch !== answer.memberEpoch ||
      JSON.stringify(previous.assignment) !== JSON.stringify(answer.assignment)
    ) {
      this.ctx.joined(answer);
    }
    return this.ctx.reconcile(answer.assignment);
  }
}
