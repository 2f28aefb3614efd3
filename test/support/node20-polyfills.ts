/**
 * @platformatic/kafka's promise API calls Promise.withResolvers (Node 22+). Floe supports and is
 * tested on Node 20, so the test run supplies it; the client itself is Node 22's to require.
 */
const PromiseStatics = Promise as unknown as Record<string, unknown>;
if (typeof PromiseStatics.withResolvers !== "function") {
  Object.defineProperty(Promise, "withResolvers", {
    configurable: true,
    writable: true,
    value<T>() {
      let resolve!: (value: T | PromiseLike<T>) => void;
      let reject!: (reason?: unknown) => void;
      const promise = new Promise<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}
