/** A MetaStore that injects the seed's faults in front of the real memory store. */
import { ConditionFailedError } from "../../src/errors.js";
import type { Item, MetaStore, QueryOptions, WriteOp } from "../../src/storage/ports.js";
import { type FaultDice, hang, type StorageObserver } from "./faults.js";

export class FaultyMetaStore implements MetaStore {
  constructor(
    private readonly inner: MetaStore,
    private readonly dice: FaultDice,
    private readonly observer: StorageObserver,
  ) {}

  async get(pk: string, sk: string): Promise<Item | undefined> {
    await this.dice.before("get");
    return this.dice.after("get", await this.inner.get(pk, sk));
  }

  async query(pk: string, options?: QueryOptions): Promise<Item[]> {
    await this.dice.before("query");
    return this.dice.after("query", await this.inner.query(pk, options));
  }

  async transact(ops: WriteOp[]): Promise<void> {
    const { dice } = this;
    const what = `transact ${summarize(ops)}`;
    const issuedAt = dice.sched.now;
    await dice.before(what);
    if (dice.roll("conflict", what)) {
      throw new ConditionFailedError("sim: injected condition failure", []);
    }
    if (dice.roll("timeoutLost", what)) {
      await dice.latency(what);
      throw dice.timeout(what);
    }
    if (dice.roll("crashInTransact", what)) {
      if (dice.rng.chance(0.5)) {
        await this.inner.transact(ops).then(
          () => this.observer.onCommit(ops, issuedAt),
          () => {},
        );
      }
      dice.crash("crashInTransact");
      await hang();
    }
    let failure: unknown;
    try {
      await this.inner.transact(ops);
      this.observer.onCommit(ops, issuedAt);
    } catch (e) {
      failure = e;
    }
    if (failure === undefined && dice.roll("timeoutLanded", what)) {
      await dice.latency(what);
      throw dice.timeout(what);
    }
    await dice.after(what, undefined);
    if (failure !== undefined) throw failure;
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** A short, deterministic description of a transaction for the trace. */
function summarize(ops: WriteOp[]): string {
  return ops.map((op) => `${op.type[0]}:${op.pk.slice(0, 24)}/${op.sk.slice(0, 28)}`).join(",");
}
