import { once } from "node:events";
import type { Writable } from "node:stream";

/** stdout with backpressure, and a reader that went away (`| head`) treated as "done", not as a crash. */
export class ConsoleOutput {
  closed = false;

  constructor(private readonly stream: Writable) {
    // EPIPE and friends: whoever read our output is gone, so there is no one left to tell.
    stream.on("error", () => {
      this.closed = true;
    });
  }

  async write(parts: Buffer[]): Promise<void> {
    if (this.closed) return;
    if (!this.stream.write(parts.length === 1 ? parts[0] : Buffer.concat(parts))) {
      await Promise.race([once(this.stream, "drain"), once(this.stream, "close")]);
    }
  }
}
