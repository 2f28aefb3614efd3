import { UsageError } from "./args.js";
import { CliError } from "./error-line.js";
import type { Listeners } from "./server-options.js";

/** A failure to write the data dir found only once starting (a file's mode, a read-only disk). */
function dataDirFailure(error: unknown): string | undefined {
  for (let e = error; e instanceof Error; e = e.cause) {
    const { code, syscall } = e as NodeJS.ErrnoException;
    if ((code === "EACCES" || code === "EPERM" || code === "EROFS") && syscall !== "listen") {
      return fileErrorReason(e);
    }
    if (/unable to open database file|readonly database/i.test(e.message)) return "permission denied";
  }
  return undefined;
}

export function fileErrorReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException)?.code;
  if (code === "EACCES" || code === "EPERM") return "permission denied";
  if (code === "EROFS") return "read-only file system";
  return error instanceof Error ? error.message : String(error);
}

/**
 * The usual ways `floe dev` or `floe agent` fails to start, said plainly in one line that names the
 * flag to change: a port in use or not allowed (the HTTP API's or the Kafka protocol's, told apart
 * by the address Node reports), an address that is not this machine's, a data dir that cannot be
 * written. Anything else is returned unchanged.
 */
export function startupError(
  error: unknown,
  listeners: Pick<Listeners, "host" | "port" | "kafka">,
  dataDir?: string,
): unknown {
  const dataDirReason = dataDir === undefined ? undefined : dataDirFailure(error);
  if (dataDirReason) return new CliError(`cannot write the data dir ${dataDir}: ${dataDirReason}`);
  const { code, syscall } = (error ?? {}) as NodeJS.ErrnoException;
  if (syscall !== undefined && syscall !== "listen") return error;
  const failed = error as { address?: string; port?: number };
  const kafka = listeners.kafka;
  // Node names the address it could not listen on; the HTTP API listens first.
  const isKafka =
    kafka !== undefined &&
    kafka.port !== 0 &&
    failed.port === kafka.port &&
    (failed.port !== listeners.port || failed.address === kafka.host);
  const [host, port, portFlag, hostFlag] = isKafka
    ? [kafka.host, kafka.port, "--kafka-port", "--kafka-host"]
    : [listeners.host, listeners.port, "--port", "--host"];
  if (code === "EADDRINUSE") {
    return new UsageError(
      isKafka
        ? `Kafka port ${port} on ${host} is already in use (a Kafka broker, or another floe dev?); pick one with --kafka-port, or run without the Kafka protocol with --no-kafka`
        : `port ${port} on ${host} is already in use (another floe dev?); pick one with --port`,
    );
  }
  if (code === "EACCES") {
    return new UsageError(`not allowed to listen on ${host}:${port}; try a ${portFlag} above 1024`);
  }
  if (code === "EADDRNOTAVAIL") {
    return new UsageError(`cannot listen on ${host}: no such local address (${hostFlag})`);
  }
  return error;
}
