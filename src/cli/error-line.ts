import { UsageError } from "./args.js";
import { FloeError } from "../errors.js";

/**
 * Every failure the user sees is one line naming the command and, for server and network errors,
 * Kafka's error code: a stack trace is for Floe's developers, shown only with FLOE_DEBUG=1.
 */
export function errorLine(command: string, error: unknown): string {
  const prefix = command ? `floe ${command}` : "floe";
  if (error instanceof UsageError) {
    return `${prefix}: ${oneLine(error.message)} (see: ${prefix} --help)`;
  }
  if (error instanceof FloeError) {
    const hint =
      error.code === ("NETWORK_EXCEPTION" as string) && /connection refused/.test(error.message)
        ? " — is `floe dev` running?"
        : "";
    return `${prefix}: ${error.code}: ${oneLine(error.message)}${hint}`;
  }
  const message = error instanceof Error ? error.message : String(error);
  return `${prefix}: unexpected error: ${oneLine(message)} (FLOE_DEBUG=1 shows details)`;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").trim();
}
