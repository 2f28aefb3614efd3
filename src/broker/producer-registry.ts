import { ConditionFailedError, FloeError } from "../errors.js";
import type { Item, MetaStore, WriteOp } from "../storage/ports.js";
import { backoffDelay, sleep as realSleep } from "./backoff.js";
import { keys } from "./keys.js";
import { MAX_PRODUCER_EPOCH } from "./producer-sequence.js";

/** What InitProducerId answers. */
export interface ProducerIdentity {
  producerId: number;
  producerEpoch: number;
}

/** A producer's `meta` item as the append path checks it: its live epoch and the item's version. */
export interface ProducerMeta {
  producerId: number;
  epoch: number;
  version: number;
}

export interface ProducerRegistryOptions {
  clock: () => number;
  random: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** How long a producer's epoch is trusted from memory; commits re-check its version anyway. */
  cacheTtlMs: number;
}

const MAX_TRANSACTIONAL_ID_LENGTH = 249;
const INIT_ATTEMPTS = 20;

/**
 * Kafka's InitProducerId over the MetaStore (decision 0008). Ids come from one counter item; a
 * named producer (Kafka's transactional.id) keeps its id and gets the next epoch each time it
 * initialises, which changes its `meta` item's version and so fences every append still carrying
 * the old epoch at its commit. Producer state lives under `producer#{id}`, never on the partition
 * head, so a busy head item does not grow with the number of producers.
 */
export class ProducerRegistry {
  private readonly cache = new Map<number, { meta: ProducerMeta | undefined; expires: number }>();
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly meta: MetaStore,
    private readonly options: ProducerRegistryOptions,
  ) {
    this.sleep = options.sleep ?? realSleep;
  }

  async init(request: { transactionalId?: string | null } = {}): Promise<ProducerIdentity> {
    const name = request.transactionalId ?? null;
    if (name !== null) validateTransactionalId(name);
    for (let attempt = 0; ; attempt++) {
      try {
        return name === null ? await this.allocate(null) : await this.initNamed(name);
      } catch (e) {
        if (!(e instanceof ConditionFailedError) || attempt + 1 >= INIT_ATTEMPTS) throw e;
        await this.sleep(backoffDelay(attempt, 2, 200, this.options.random));
      }
    }
  }

  /** The producer's live epoch, from memory while fresh; undefined when it does not exist (or expired). */
  async lookup(producerId: number, fresh = false): Promise<ProducerMeta | undefined> {
    const hit = this.cache.get(producerId);
    if (!fresh && hit && hit.expires > this.options.clock()) return hit.meta;
    const k = keys.producer(producerId);
    const item = await this.meta.get(k.pk, k.sk);
    const meta = item ? { producerId, epoch: Number(item.data.epoch), version: item.version } : undefined;
    this.cache.set(producerId, { meta, expires: this.options.clock() + this.options.cacheTtlMs });
    return meta;
  }

  forget(producerId: number): void {
    this.cache.delete(producerId);
  }

  private async initNamed(name: string): Promise<ProducerIdentity> {
    const nameKey = keys.transactionalId(name);
    const mapping = await this.meta.get(nameKey.pk, nameKey.sk);
    if (!mapping) return this.allocate(name);
    const producerId = Number(mapping.data.producerId);
    const k = keys.producer(producerId);
    const current = await this.meta.get(k.pk, k.sk);
    const epoch = current ? Number(current.data.epoch) + 1 : 0;
    // Kafka's answer to an exhausted epoch: the same name continues under a new producer id.
    if (epoch > MAX_PRODUCER_EPOCH) return this.allocate(name, mapping);
    await this.meta.transact([
      { type: "check", ...nameKey, condition: { version: mapping.version } },
      {
        type: "put",
        ...k,
        data: { epoch, transactionalId: name, initAt: this.options.clock() },
        condition: current ? { version: current.version } : { absent: true },
      },
      { type: "put", ...keys.producerDirectoryEntry(producerId), data: { initAt: this.options.clock() } },
    ]);
    this.forget(producerId);
    return { producerId, producerEpoch: epoch };
  }

  /** A new producer id at epoch 0, and for a named producer the name pointing at it. */
  private async allocate(name: string | null, mapping?: Item): Promise<ProducerIdentity> {
    const counter = await this.meta.get(keys.producerIdCounter.pk, keys.producerIdCounter.sk);
    const producerId = counter ? Number(counter.data.next) : 0;
    const now = this.options.clock();
    const ops: WriteOp[] = [
      {
        type: "put",
        ...keys.producerIdCounter,
        data: { next: producerId + 1 },
        condition: counter ? { version: counter.version } : { absent: true },
      },
      {
        type: "put",
        ...keys.producer(producerId),
        data: { epoch: 0, transactionalId: name, initAt: now },
        condition: { absent: true },
      },
      {
        type: "put",
        ...keys.producerDirectoryEntry(producerId),
        data: { initAt: now },
        condition: { absent: true },
      },
    ];
    if (name !== null) {
      ops.push({
        type: "put",
        ...keys.transactionalId(name),
        data: { producerId },
        condition: mapping ? { version: mapping.version } : { absent: true },
      });
    }
    await this.meta.transact(ops);
    return { producerId, producerEpoch: 0 };
  }
}

function validateTransactionalId(name: unknown): asserts name is string {
  if (
    typeof name !== "string" ||
    name.length === 0 ||
    name.length > MAX_TRANSACTIONAL_ID_LENGTH ||
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
    /[\u0000-\u001f]/.test(name)
  ) {
    throw new FloeError(
      "INVALID_TRANSACTIONAL_ID",
      `transactionalId must be 1 to ${MAX_TRANSACTIONAL_ID_LENGTH} characters without control characters.`,
    );
  }
}
