import { UsageError } from "./args.js";
import { FloeError } from "../errors.js";

/** A failure to explain in plain words, without an error code: exit code 1. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CliError";
  }
}

/**
 * Every failure the user sees is one line naming the command and, for server and network errors,
 * Kafka's error code: a stack trace is for Floe's developers, shown only with FLOE_DEBUG=1.
 */
export function errorLine(command: string, error: unknown): string {
  const prefix = command ? `floe ${command}` : "floe";
  if (error instanceof UsageError) {
    return `${prefix}: ${oneLine(error.message)} (see: ${prefix} --help)`;
  }
  if (error instanceof CliError) return `${prefix}: ${oneLine(error.message)}`;
  if (error instanceof FloeError) {
    return `${prefix}: ${error.code}: ${oneLine(error.message)}${networkHint(error)}`;
  }
  const message = error instanceof Error ? error.message : String(error);
  return `${prefix}: unexpected error: ${oneLine(message)} (FLOE_DEBUG=1 shows details)`;
}

/**
 * What to check when the server cannot be reached. Kafka's port is the usual slip: floe's commands
 * speak HTTP, and 9092 is where `floe dev` serves the Kafka protocol, to Kafka's own tools.
 */
function networkHint(error: FloeError): string {
  if (error.code !== ("NETWORK_EXCEPTION" as string)) return "";
  if (/:9092\b/.test(error.message)) {
    return " — floe's commands talk to Floe's HTTP API, on 8092 by default; 9092 is the Kafka protocol, for Kafka's own clients and tools";
  }
  return /connection refused/.test(error.message) ? " — is `floe dev` running?" : "";
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").trim();
}
