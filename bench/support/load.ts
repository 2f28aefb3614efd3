/**
 * The workload: producers (the Floe client's Producer, one per simulated service) and consumers
 * (the client's PartitionReader, long-polling one partition each). Producers and consumers run
 * in the benchmark's process; the server has its own (server-process.ts).
 */
import { randomBytes } from "node:crypto";
import { Floe } from "../../src/client/floe.js";
import type { WireProtocol } from "../../src/client/http-transport.js";
import { Samples } from "./stats.js";

/** A record whose value starts with this carries its send time (float64 ms) in bytes 1-8. */
const STAMP = 0xfe;
const STAMP_BYTES = 9;

/** Milliseconds on one clock shared by producers and consumers (same process). */
const now = () => performance.timeOrigin + performance.now();

export interface ProduceLoad {
  url: string;
  topic: string;
  partitions: number;
  producers: number;
  recordBytes: number;
  recordsPerRequest: number;
  durationMs: number;
  /** Open loop at this many payload bytes per second in total; absent: each producer sends back to back. */
  rateBytesPerSecond?: number;
  /**
   * Back to back: sends each producer keeps outstanding, as an application calling send() without
   * awaiting each one does (Kafka's producer allows 5 requests in flight per connection).
   */
  sendsInFlight?: number;
  /**
   * The Producer's settings: requests in flight per partition (Kafka's
   * max.in.flight.requests.per.connection, default 5 there) and how many bytes of queued sends one
   * request may carry (batchBytes).
   */
  producer: { maxInFlightRequests: number; batchBytes: number; idempotent?: boolean };
  protocol: WireProtocol;
}

export interface ProduceOutcome {
  requests: number;
  records: number;
  /** Payload (record value) bytes acknowledged: what "ingested" counts. */
  bytes: number;
  failures: number;
  firstError?: string;
  seconds: number;
  ack: Samples;
  /** Open loop: sends that left later than scheduled because too many were outstanding. */
  late: number;
}

/** Most sends one open-loop producer keeps outstanding before it falls behind its schedule. */
const MAX_OUTSTANDING = 256;

export async function runProducers(load: ProduceLoad): Promise<ProduceOutcome> {
  const outcome: ProduceOutcome = {
    requests: 0,
    records: 0,
    bytes: 0,
    failures: 0,
    seconds: 0,
    ack: new Samples(),
    late: 0,
  };
  const started = performance.now();
  const deadline = started + load.durationMs;
  const requestBytes = load.recordBytes * load.recordsPerRequest;
  const interval =
    load.rateBytesPerSecond === undefined
      ? 0
      : (1000 * requestBytes * load.producers) / load.rateBytesPerSecond;

  await Promise.all(
    Array.from({ length: load.producers }, async (_, p) => {
      const producer = new Floe({ url: load.url, protocol: load.protocol }).producer(load.producer);
      // Distinct payloads per producer, built once; only the stamped first record is fresh per send.
      const values = Array.from({ length: load.recordsPerRequest }, () => {
        const v = randomBytes(load.recordBytes);
        v[0] = 0;
        return v;
      });
      let sent = 0;
      const send = async () => {
        const partition = (p + sent++) % load.partitions;
        const stamped = Buffer.from(values[0]);
        if (stamped.length >= STAMP_BYTES) {
          stamped[0] = STAMP;
          stamped.writeDoubleLE(now(), 1);
        }
        const messages = values.map((value, i) => ({ value: i === 0 ? stamped : value, partition }));
        const t0 = performance.now();
        try {
          await producer.send({ topic: load.topic, messages });
          outcome.ack.push(performance.now() - t0);
          outcome.requests++;
          outcome.records += messages.length;
          outcome.bytes += requestBytes;
        } catch (e) {
          outcome.failures++;
          outcome.firstError ??= (e as Error).message;
        }
      };
      if (interval === 0) {
        await Promise.all(
          Array.from({ length: load.sendsInFlight ?? 1 }, async () => {
            while (performance.now() < deadline) await send();
          }),
        );
      } else {
        const outstanding = new Set<Promise<void>>();
        // Producers start spread over one interval, so their sends interleave evenly.
        let next = started + (interval * p) / load.producers;
        while (next < deadline) {
          const wait = next - performance.now();
          if (wait > 0) await sleep(wait);
          if (outstanding.size >= MAX_OUTSTANDING) {
            outcome.late++;
            await Promise.race(outstanding);
          }
          const done: Promise<void> = send().finally(() => outstanding.delete(done));
          outstanding.add(done);
          next += interval;
        }
        await Promise.all(outstanding);
      }
      await producer.disconnect();
    }),
  );
  outcome.seconds = (performance.now() - started) / 1000;
  return outcome;
}

export interface ConsumeOutcome {
  records: number;
  bytes: number;
  fetches: number;
  seconds: number;
  /** Produce call to the record in a consumer's hands, for stamped records. */
  endToEnd: Samples;
}

/**
 * One long-polling reader per partition, following from `from` until stopped and caught up with
 * `until` (the high-water marks when the producers finished).
 */
export class TailConsumers {
  private readonly outcome: ConsumeOutcome = {
    records: 0,
    bytes: 0,
    fetches: 0,
    seconds: 0,
    endToEnd: new Samples(),
  };
  private readonly running: Promise<void>[] = [];
  private until: number[] | undefined;
  private readonly controller = new AbortController();
  private readonly started = performance.now();

  constructor(
    url: string,
    private readonly topic: string,
    from: number[],
    private readonly maxWaitMs = 1000,
  ) {
    const reader = new Floe({ url, retry: { retries: 20 } }).reader();
    for (const [partition, offset] of from.entries())
      this.running.push(this.follow(reader, partition, offset));
  }

  private async follow(reader: ReturnType<Floe["reader"]>, partition: number, from: number): Promise<void> {
    let offset = from;
    while (this.until === undefined || offset < this.until[partition]) {
      if (this.controller.signal.aborted) return;
      let page: Awaited<ReturnType<typeof reader.fetch>>;
      try {
        page = await reader.fetch({
          topic: this.topic,
          partition,
          offset,
          maxWaitMs: this.maxWaitMs,
          maxBytes: 4 * 1024 * 1024,
          signal: this.controller.signal,
        });
      } catch (e) {
        if (this.controller.signal.aborted) return;
        throw e;
      }
      const received = now();
      this.outcome.fetches++;
      for (const r of page.records) {
        this.outcome.records++;
        this.outcome.bytes += r.value?.length ?? 0;
        if (r.value && r.value.length >= STAMP_BYTES && r.value[0] === STAMP) {
          this.outcome.endToEnd.push(received - r.value.readDoubleLE(1));
        }
      }
      offset = page.nextOffset;
    }
  }

  /** Waits until every partition is read up to `until`, at most `timeoutMs`. */
  async finish(until: number[], timeoutMs: number): Promise<ConsumeOutcome> {
    this.until = until;
    const timer = setTimeout(() => this.controller.abort(), timeoutMs);
    try {
      await Promise.all(this.running);
    } finally {
      clearTimeout(timer);
      this.controller.abort();
    }
    this.outcome.seconds = (performance.now() - this.started) / 1000;
    return this.outcome;
  }
}

/** Reads every partition from `from` to `until` as fast as the server answers (a consumer catching up). */
export async function catchUp(
  url: string,
  topic: string,
  from: number[],
  until: number[],
  maxBytes = 4 * 1024 * 1024,
): Promise<ConsumeOutcome> {
  const outcome: ConsumeOutcome = { records: 0, bytes: 0, fetches: 0, seconds: 0, endToEnd: new Samples() };
  const reader = new Floe({ url }).reader();
  const started = performance.now();
  await Promise.all(
    until.map(async (end, partition) => {
      let offset = from[partition];
      while (offset < end) {
        const page = await reader.fetch({ topic, partition, offset, maxBytes });
        outcome.fetches++;
        for (const r of page.records) {
          outcome.records++;
          outcome.bytes += r.value?.length ?? 0;
        }
        offset = page.nextOffset;
      }
    }),
  );
  outcome.seconds = (performance.now() - started) / 1000;
  return outcome;
}

export async function highWatermarks(url: string, topic: string): Promise<number[]> {
  const description = await new Floe({ url }).admin().describeTopic(topic);
  return description.partitions.map((p) => p.highWatermark);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
