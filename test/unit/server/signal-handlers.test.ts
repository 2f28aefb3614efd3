import { afterEach, describe, expect, it } from "vitest";
import { installSignalHandlers } from "../../../src/server/signal-handlers.js";

describe("installSignalHandlers", () => {
  let uninstall: (() => void) | undefined;
  afterEach(() => uninstall?.());

  it("closes the server once on SIGTERM or SIGINT, then exits 0", async () => {
    let closes = 0;
    const exits: number[] = [];
    const lines: string[] = [];
    let closed!: () => void;
    const closing = new Promise<void>((resolve) => (closed = resolve));
    uninstall = installSignalHandlers(
      {
        close: async () => {
          closes++;
          await closing;
        },
      },
      { exit: (code) => exits.push(code), log: (l) => lines.push(l) },
    );
    process.emit("SIGTERM", "SIGTERM");
    expect(closes).toBe(1);
    expect(exits).toEqual([]);
    closed();
    await closing;
    await new Promise((r) => setImmediate(r));
    expect(exits).toEqual([0]);
    expect(lines[0]).toContain("SIGTERM: shutting down");
  });

  it("exits at once with 130 on a second signal", () => {
    const exits: number[] = [];
    uninstall = installSignalHandlers(
      { close: () => new Promise<void>(() => {}) },
      { exit: (code) => exits.push(code), log: () => {} },
    );
    process.emit("SIGINT", "SIGINT");
    process.emit("SIGINT", "SIGINT");
    expect(exits).toEqual([130]);
  });

  it("exits 1 when shutdown fails", async () => {
    const exits: number[] = [];
    const lines: string[] = [];
    uninstall = installSignalHandlers(
      { close: async () => Promise.reject(new Error("disk full")) },
      { exit: (code) => exits.push(code), log: (l) => lines.push(l) },
    );
    process.emit("SIGTERM", "SIGTERM");
    await new Promise((r) => setImmediate(r));
    expect(exits).toEqual([1]);
    expect(lines.at(-1)).toContain("disk full");
  });
});
