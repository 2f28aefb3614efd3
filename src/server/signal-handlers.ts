import type { DevServer } from "./dev-server.js";

export interface SignalHandlerOptions {
  log?: (line: string) => void;
  /** Default process.exit; injectable so the shutdown path can be tested without ending the runner. */
  exit?: (code: number) => void;
}

/**
 * Graceful shutdown on SIGINT (Ctrl-C) and SIGTERM: stop accepting, answer in-flight requests,
 * flush the group commit, close the backend, exit 0. A second signal exits at once (130), as
 * Kafka's scripts do when shutdown hangs. Returns a function that removes the handlers.
 */
export function installSignalHandlers(
  server: Pick<DevServer, "close">,
  options: SignalHandlerOptions = {},
): () => void {
  const log = options.log ?? ((line: string) => console.error(line));
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      log(`${signal} again: exiting without waiting for in-flight requests`);
      exit(130);
      return;
    }
    stopping = true;
    log(
      `${signal}: shutting down (answering in-flight requests, flushing the group commit); repeat to force`,
    );
    server.close().then(
      () => exit(0),
      (e: unknown) => {
        log(`shutdown failed: ${e instanceof Error ? e.message : String(e)}`);
        exit(1);
      },
    );
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return () => {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  };
}
