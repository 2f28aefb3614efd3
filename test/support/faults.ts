/**
 * Shared by the conformance suites that inject faults into a real backend: an assertion on a
 * Floe error code, and a MetaStore whose next transact calls fail as told (the crash window).
 */
import { expect } from "vitest";
import { ConditionFailedError, FloeError, StorageError } from "../../src/errors.js";
import type { MetaStore, ObjectStore, WriteOp } from "../../src/storage/ports.js";

export async function expectCode(p: Promise<unknown>, code: string): Promise<FloeError> {
  const e = await p.then(
    () => {
      throw new Error(`expected ${code}, but the call succeeded`);
    },
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(FloeError);
  expect((e as FloeError).code).toBe(code);
  return e as FloeError;
}

/** A MetaStore whose next transact calls fail as told, for the crash window. */
export class FaultyMeta implements MetaStore {
  /** One entry per coming transact: pass it, fail it unapplied, lose a race, or apply it and lose the answer. */
  failures: Array<"ok" | "storage" | "conflict" | "after-commit"> = [];
  transacts = 0;
  constructor(private readonly inner: MetaStore) {}
  get(pk: string, sk: string) {
    return this.inner.get(pk, sk);
  }
  query(pk: string, options?: Parameters<MetaStore["query"]>[1]) {
    return this.inner.query(pk, options);
  }
  async transact(ops: WriteOp[]) {
    this.transacts++;
    const fault = this.failures.shift();
    if (fault === "storage")
      throw new StorageError("injected: metadata store unreachable", { retriable: true });
    if (fault === "conflict") throw new ConditionFailedError("injected: lost a race");
    await this.inner.transact(ops);
    if (fault === "after-commit")
      throw new StorageError("injected: the answer was lost", { retriable: true });
  }
  close() {
    return this.inner.close();
  }
}

/** An object store whose PUTs wait until released: the window between the data write and the commit. */
export class HeldPuts implements ObjectStore {
  private held: Array<() => void> = [];
  private waiting: Array<() => void> = [];
  hold = true;
  constructor(private readonly inner: ObjectStore) {}
  async put(key: string, body: Uint8Array) {
    await this.inner.put(key, body);
    if (!this.hold) return;
    await new Promise<void>((resolve) => {
      this.held.push(resolve);
      for (const w of this.waiting.splice(0)) w();
    });
  }
  /** Resolves once a PUT is being held. */
  async holding(): Promise<void> {
    if (this.held.length > 0) return;
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  release() {
    this.hold = false;
    for (const r of this.held.splice(0)) r();
  }
  get: ObjectStore["get"] = (key, range) => this.inner.get(key, range);
  delete: ObjectStore["delete"] = (key) => this.inner.delete(key);
  list: ObjectStore["list"] = (prefix, options) => this.inner.list(prefix, options);
  close = () => this.inner.close();
}
