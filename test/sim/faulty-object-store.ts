/** An ObjectStore that injects the seed's faults in front of the real memory store. */
import type { ByteRange, ObjectInfo, ObjectStore } from "../../src/storage/ports.js";
import { type FaultDice, hang, type StorageObserver } from "./faults.js";

export class FaultyObjectStore implements ObjectStore {
  constructor(
    private readonly inner: ObjectStore,
    private readonly dice: FaultDice,
    private readonly observer: StorageObserver,
  ) {}

  async put(key: string, body: Uint8Array): Promise<void> {
    const { dice } = this;
    const what = `put ${key.slice(-31)}`;
    await dice.before(what);
    if (dice.roll("putFailed", what)) throw dice.timeout(what);
    await this.inner.put(key, body);
    this.observer.onPut(key, body);
    if (dice.roll("crashAfterPut", what)) {
      dice.crash("crashAfterPut");
      await hang();
    }
    if (dice.roll("putLostAck", what)) {
      await dice.latency(what);
      throw dice.timeout(what);
    }
    await dice.after(what, undefined);
  }

  async get(key: string, range?: ByteRange): Promise<Uint8Array> {
    await this.dice.before("get-object");
    return this.dice.after("get-object", await this.inner.get(key, range));
  }

  async delete(key: string): Promise<void> {
    const what = `delete ${key.slice(-31)}`;
    await this.dice.before(what);
    this.observer.onDelete(key);
    await this.inner.delete(key);
    if (this.dice.roll("timeoutLanded", what)) throw this.dice.timeout(what);
    await this.dice.after(what, undefined);
  }

  async list(prefix: string, options?: { startAfter?: string; limit?: number }): Promise<ObjectInfo[]> {
    await this.dice.before("list");
    return this.dice.after("list", await this.inner.list(prefix, options));
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
