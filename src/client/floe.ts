import { Admin } from "./admin.js";
import { Consumer } from "./consumer.js";
import type { ConsumerConfig } from "./consumer-types.js";
import { type FetchFn, HttpTransport, type WireProtocol } from "./http-transport.js";
import { PartitionReader } from "./partition-reader.js";
import { Producer, type ProducerOptions } from "./producer.js";
import { type RetryHooks, type RetryOptions, type RetryPolicy, retryPolicy } from "./retry.js";

export interface FloeOptions {
  /** The server, e.g. http://127.0.0.1:8092 for `floe dev`. */
  url: string;
  /** A fetch implementation (tests, proxies, request signing); the global fetch by default. */
  fetch?: FetchFn;
  /** Backoff on retriable failures for every request; a producer may override it. */
  retry?: RetryOptions;
  /** Kafka's request.timeout.ms. Default 30000. */
  requestTimeoutMs?: number;
  /** For tests: deterministic backoff. */
  retryHooks?: Omit<RetryHooks, "signal">;
  /**
   * How producers and readers carry records: "binary" (default; Kafka RecordBatch v2 bytes) or
   * "json" (the JSON routes with base64 values).
   */
  protocol?: WireProtocol;
}

/** The entry point, like KafkaJS's `new Kafka({ brokers })`: one server URL, then admin(), producer(), consumer(), reader(). */
export class Floe {
  private readonly transport: HttpTransport;
  private readonly retry: RetryPolicy;
  private readonly protocol: WireProtocol | undefined;

  constructor(options: FloeOptions) {
    this.protocol = options.protocol;
    this.retry = retryPolicy(options.retry);
    this.transport = new HttpTransport({
      url: options.url,
      fetch: options.fetch ?? ((input, init) => fetch(input, init)),
      retry: this.retry,
      requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
      hooks: options.retryHooks,
    });
  }

  get url(): string {
    return this.transport.baseUrl;
  }

  admin(): Admin {
    return new Admin(this.transport);
  }

  producer(options: ProducerOptions = {}): Producer {
    return new Producer(this.transport, { protocol: this.protocol, ...options }, this.retry);
  }

  /** A consumer-group member (subscribe + run), or a standalone consumer (assign + run). */
  consumer(config: ConsumerConfig): Consumer {
    return new Consumer(this.transport, this.reader(), config, this.retry);
  }

  reader(): PartitionReader {
    return new PartitionReader(this.transport, this.protocol);
  }

  /** `GET /v1/health`: resolves when the server answers healthy, throws otherwise. */
  health(): Promise<unknown> {
    return this.transport.request("GET", "/v1/health");
  }
}
