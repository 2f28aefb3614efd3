import { keys } from "../broker/keys.js";
import { sequenceStateFromDoc } from "../broker/producer-sequence.js";
import { ConditionFailedError } from "../errors.js";
import type { Item, WriteOp } from "../storage/ports.js";
import type { MaintenanceContext } from "./maintenance-context.js";

/** Producers looked at per page of the directory, and sequence items read per query. */
const PRODUCERS_PER_PAGE = 25;
const ITEMS_PER_QUERY = 100;

/**
 * Kafka's producer.id.expiration.ms: a producer's state on a partition is dropped once it has not
 * written there for that long, and the producer itself once it has no state left and was
 * initialised longer ago than that. Every delete is conditional on the version read, so a producer
 * writing at that very moment keeps its state (its commit or our delete loses the race, never both
 * half-apply). An expired producer's next produce is UNKNOWN_PRODUCER_ID (or, on a partition whose
 * state alone expired, must restart at sequence 0), as in Kafka.
 *
 * Answers the last producer id visited, or null once the directory is done.
 */
export async function expireProducersPage(
  ctx: MaintenanceContext,
  after: string | null,
): Promise<string | null> {
  const page = await ctx.meta.query(keys.producerDirectory, {
    ...(after === null ? {} : { gt: after }),
    limit: PRODUCERS_PER_PAGE,
  });
  for (const entry of page) {
    if (ctx.budget.exhausted) return previous(page, entry, after);
    await expireProducer(ctx, Number(entry.sk), entry);
  }
  return page.length < PRODUCERS_PER_PAGE ? null : page[page.length - 1].sk;
}

function previous(page: Item[], entry: Item, after: string | null): string | null {
  const i = page.indexOf(entry);
  return i === 0 ? after : page[i - 1].sk;
}

async function expireProducer(
  ctx: MaintenanceContext,
  producerId: number,
  directoryEntry: Item,
): Promise<void> {
  const { clock, producerIdExpirationMs } = ctx.options;
  const cutoff = clock() - producerIdExpirationMs;
  const { pk } = keys.producer(producerId);
  let live = 0;
  let gt: string | undefined;
  for (;;) {
    const items = await ctx.meta.query(pk, {
      prefix: keys.producerSequencePrefix,
      limit: ITEMS_PER_QUERY,
      gt,
    });
    const stale: WriteOp[] = [];
    for (const item of items) {
      if (sequenceStateFromDoc(item.data).lastWrite < cutoff) {
        stale.push({ type: "delete", pk, sk: item.sk, condition: { version: item.version } });
      } else {
        live++;
      }
    }
    for (const op of stale) {
      // One at a time: a producer writing this partition right now makes only its own delete fail.
      if (await conditional(ctx, [op])) ctx.report.producers.sequencesExpired++;
      else live++;
    }
    if (items.length < ITEMS_PER_QUERY) break;
    gt = items[items.length - 1].sk;
  }
  if (live > 0) return;
  const metaKey = keys.producer(producerId);
  const meta = await ctx.meta.get(metaKey.pk, metaKey.sk);
  const initAt = Number(meta?.data.initAt ?? directoryEntry.data.initAt ?? 0);
  if (initAt >= cutoff) return;
  const ops: WriteOp[] = [
    {
      type: "delete",
      ...keys.producerDirectoryEntry(producerId),
      condition: { version: directoryEntry.version },
    },
  ];
  if (meta) ops.push({ type: "delete", ...metaKey, condition: { version: meta.version } });
  // The name goes with it, so its next InitProducerId starts a new id and no zombie of this one passes.
  const name = typeof meta?.data.transactionalId === "string" ? meta.data.transactionalId : null;
  if (name !== null) {
    const nameKey = keys.transactionalId(name);
    const mapping = await ctx.meta.get(nameKey.pk, nameKey.sk);
    if (mapping && Number(mapping.data.producerId) === producerId) {
      ops.push({ type: "delete", ...nameKey, condition: { version: mapping.version } });
    }
  }
  if (await conditional(ctx, ops)) ctx.report.producers.expired++;
}

/** Applies the ops; false when a condition failed (someone wrote meanwhile). */
async function conditional(ctx: MaintenanceContext, ops: WriteOp[]): Promise<boolean> {
  try {
    await ctx.meta.transact(ops);
    ctx.budget.charge();
    return true;
  } catch (e) {
    if (e instanceof ConditionFailedError) return false;
    throw e;
  }
}
