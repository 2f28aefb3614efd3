/** Assertions on what a synchronous call throws, for the codec tests. */
import { expect } from "vitest";
import { FloeError } from "../../src/errors.js";

/** Runs `fn`; returns the error it throws, or undefined. */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

/** `fn` throws a FloeError with this Kafka error code; answers it for further checks. */
export function expectThrownCode(fn: () => unknown, code: string): FloeError {
  const e = thrown(fn);
  expect(e).toBeInstanceOf(FloeError);
  expect((e as FloeError).code).toBe(code);
  return e as FloeError;
}
