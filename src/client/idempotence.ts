import { nextSequence } from "../log/record-batch.js";
import type { FloeClientError } from "./client-error.js";

/** What `POST /v1/producers` (Kafka's InitProducerId) answers. */
export interface ProducerIdentity {
  readonly producerId: number;
  readonly producerEpoch: number;
}

/**
 * The producer's id and epoch (KIP-98): initialised on the first send, replaced when the server no
 * longer knows it or a partition must start its sequences again, and fatal once another instance
 * with the same transactionalId has fenced it (Kafka's ProducerFencedException).
 */
export class ProducerIdentities {
  private current: Promise<ProducerIdentity> | undefined;
  /** The identity `current` resolved to; undefined while an initialisation is under way. */
  private resolved: ProducerIdentity | undefined;
  private fatal: FloeClientError | undefined;

  constructor(private readonly init: () => Promise<ProducerIdentity>) {}

  /** Throws the fencing error once the producer has been fenced: every later send fails with it. */
  throwIfFenced(): void {
    if (this.fatal) throw this.fatal;
  }

  fence(error: FloeClientError): void {
    this.fatal ??= error;
  }

  /** The live identity, initialising it on first use (a failed initialisation is tried again next time). */
  identity(): Promise<ProducerIdentity> {
    this.throwIfFenced();
    return this.current ?? this.start();
  }

  /** An identity newer than `stale`: the live one when it already is, else a new initialisation. */
  renew(stale: ProducerIdentity): Promise<ProducerIdentity> {
    this.throwIfFenced();
    if (this.current && this.resolved !== stale) return this.current;
    return this.start();
  }

  /**
   * True when `stamp` is an older epoch of the live producer id: a renewal of this producer (with a
   * transactionalId, InitProducerId bumps the epoch) refused it, not another instance.
   */
  supersededByUs(stamp: ProducerIdentity): boolean {
    const live = this.resolved;
    return (
      live !== undefined && live.producerId === stamp.producerId && live.producerEpoch > stamp.producerEpoch
    );
  }

  private start(): Promise<ProducerIdentity> {
    this.resolved = undefined;
    const pending = this.init();
    this.current = pending;
    pending.then(
      (identity) => {
        if (this.current === pending) this.resolved = identity;
      },
      () => {
        if (this.current === pending) this.current = undefined;
      },
    );
    return pending;
  }
}

/** Where a request's records sit in its partition's sequence: the identity it was stamped with and its first sequence. */
export interface Stamp {
  identity: ProducerIdentity;
  baseSequence: number;
}

/** One produce request to a partition, from its first dispatch until it is acknowledged or has failed. */
export interface Ticket {
  readonly count: number;
  stamp: Stamp | undefined;
  /** Stamp it again before the next attempt: it can never land under its current stamp. */
  restamp: boolean;
  /** An attempt may have appended it (no answer, or a server fault): it must not go under another stamp. */
  uncertain: boolean;
}

/**
 * One partition's sequence numbers (Kafka's TransactionManager, per topic-partition). Requests are
 * stamped in dispatch order, once: a retry resends the same stamp, so the server answers a request
 * it already appended with the original offsets. A request goes under a new identity only when it
 * is known never to land under its old one, and only after every request before it has settled or
 * been stamped anew, so the partition's order survives a reset.
 */
export class PartitionSequence {
  private identity: ProducerIdentity | undefined;
  /** Set when the partition gave up `identity`: the next stamp renews from it. */
  private stale: ProducerIdentity | undefined;
  private acquiring: Promise<void> | undefined;
  private next = 0;
  /** Unresolved requests, in dispatch order. */
  private readonly tickets: Ticket[] = [];
  private waiters: (() => void)[] = [];

  constructor(private readonly identities: ProducerIdentities) {}

  /** Registers a request in dispatch order; call before any await so order is the batcher's. */
  open(count: number): Ticket {
    const ticket: Ticket = { count, stamp: undefined, restamp: false, uncertain: false };
    this.tickets.push(ticket);
    return ticket;
  }

  /** The request is answered or has failed: it leaves the sequence. */
  close(ticket: Ticket): void {
    const i = this.tickets.indexOf(ticket);
    if (i >= 0) this.tickets.splice(i, 1);
    this.changed();
  }

  /** The ticket's stamp, assigning one (in order) when it has none or must be stamped again. */
  async stamp(ticket: Ticket): Promise<Stamp> {
    for (;;) {
      this.identities.throwIfFenced();
      if (ticket.stamp && !ticket.restamp) return ticket.stamp;
      if (!this.identity) {
        await this.acquire();
        continue;
      }
      const identity = this.identity;
      // Every request before it must already hold a sequence of this identity, or have settled.
      const before = this.tickets.slice(0, this.tickets.indexOf(ticket));
      if (before.some((t) => t.stamp?.identity !== identity || t.restamp)) {
        await this.wait();
        continue;
      }
      ticket.stamp = { identity, baseSequence: this.next };
      ticket.restamp = false;
      ticket.uncertain = false;
      this.next = nextSequence(this.next, ticket.count);
      this.changed();
      return ticket.stamp;
    }
  }

  /** True while a request dispatched before this one has not settled. */
  hasEarlierUnresolved(ticket: Ticket): boolean {
    return this.tickets.indexOf(ticket) > 0;
  }

  /** Resolves when a request of this partition settles or is stamped. */
  wait(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /**
   * The partition's sequence under the ticket's identity is broken (a gap, the producer unknown to
   * the server): later requests under it can never land. The ticket and every later one under that
   * identity are stamped again, under a newer identity, from sequence 0.
   */
  reset(ticket: Ticket): void {
    const identity = ticket.stamp?.identity;
    if (!identity) return;
    this.restampFrom(ticket, identity);
    ticket.restamp = true;
  }

  /**
   * The ticket failed and appended nothing. If no request was stamped after it, its sequences are
   * handed out again; otherwise those requests can never land under their identity and start over
   * under a newer one. A ticket whose outcome is unknown changes nothing: the next request finds
   * out from the server whether it landed (a duplicate-free gap is OUT_OF_ORDER_SEQUENCE_NUMBER).
   */
  failed(ticket: Ticket): void {
    if (!this.tickets.includes(ticket)) return;
    const stamp = ticket.stamp;
    if (stamp && !ticket.uncertain && !ticket.restamp) {
      if (this.identity === stamp.identity && this.next === nextSequence(stamp.baseSequence, ticket.count)) {
        this.next = stamp.baseSequence;
      } else {
        this.restampFrom(ticket, stamp.identity);
      }
    }
    this.close(ticket);
  }

  private restampFrom(ticket: Ticket, identity: ProducerIdentity): void {
    const at = this.tickets.indexOf(ticket);
    for (const later of this.tickets.slice(at + 1))
      if (later.stamp?.identity === identity) later.restamp = true;
    if (this.identity === identity) {
      this.identity = undefined;
      this.stale = identity;
      this.next = 0;
    }
    this.changed();
  }

  private acquire(): Promise<void> {
    this.acquiring ??= (async () => {
      try {
        const stale = this.stale;
        const identity = await (stale ? this.identities.renew(stale) : this.identities.identity());
        this.identity = identity;
        this.stale = undefined;
        this.next = 0;
      } finally {
        this.acquiring = undefined;
        this.changed();
      }
    })();
    return this.acquiring;
  }

  private changed(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }
}
