import { UsageError } from "./args.js";
import type { OptionSpecs } from "./args.js";
import type { OptionReader } from "./args.js";

export const DEFAULT_URL = "http://127.0.0.1:8092";

export const CONNECTION_OPTIONS: OptionSpecs = {
  url: {
    kind: "value",
    valueName: "url",
    description: `Floe server URL (env FLOE_URL; default ${DEFAULT_URL}); may also come before the command`,
  },
  "bootstrap-server": {
    kind: "value",
    valueName: "host:port",
    description: "alias of --url, for Kafka habits; http:// is assumed when no scheme is given",
  },
  "aws-sigv4": {
    kind: "flag",
    description:
      "sign requests with SigV4 from the default AWS credential chain (automatic for execute-api and lambda-url URLs)",
  },
};

/**
 * --url, then --bootstrap-server, then FLOE_URL, then the `floe dev` default. The default applies
 * only when none of them is given: an empty one (`--url ''`, `FLOE_URL=`) is a mistake, usually an
 * unset shell variable, and talking to a local server instead would hide it.
 */
export function serverUrl(options: OptionReader, env: NodeJS.ProcessEnv): string {
  const source = options.has("url")
    ? "--url"
    : options.has("bootstrap-server")
      ? "--bootstrap-server"
      : env.FLOE_URL !== undefined
        ? "FLOE_URL"
        : undefined;
  if (source === undefined) return DEFAULT_URL;
  const given = source === "FLOE_URL" ? (env.FLOE_URL ?? "") : (options.string(source.slice(2)) ?? "");
  // Kafka's --bootstrap-server is host:port; a list takes the first, as a client would to bootstrap.
  const first = given.split(",")[0].trim();
  if (first === "") {
    throw new UsageError(
      source === "FLOE_URL"
        ? `FLOE_URL is set but empty: set it to the server's URL (e.g. ${DEFAULT_URL}) or unset it`
        : `${source} is empty: give the server's URL (e.g. ${DEFAULT_URL}), or leave ${source} out for that default`,
    );
  }
  const url = /^[a-z][a-z0-9+.-]*:\/\//i.test(first) ? first : `http://${first}`;
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== "http:" && parsed.protocol !== "https:")) {
    throw new UsageError(`${source} ${JSON.stringify(given)} is not an http:// or https:// URL`);
  }
  return url;
}
