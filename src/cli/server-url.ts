import type { OptionSpecs } from "./args.js";
import type { OptionReader } from "./args.js";

export const DEFAULT_URL = "http://127.0.0.1:8092";

export const CONNECTION_OPTIONS: OptionSpecs = {
  url: {
    kind: "value",
    valueName: "url",
    description: `Floe server URL (env FLOE_URL; default ${DEFAULT_URL})`,
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

/** --url, then --bootstrap-server, then FLOE_URL, then the `floe dev` default. */
export function serverUrl(options: OptionReader, env: NodeJS.ProcessEnv): string {
  const given = options.string("url") ?? options.string("bootstrap-server") ?? env.FLOE_URL;
  if (given === undefined || given.trim() === "") return DEFAULT_URL;
  const url = given.trim();
  // Kafka's --bootstrap-server is host:port; a list takes the first, as a client would to bootstrap.
  const first = url.split(",")[0].trim();
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(first) ? first : `http://${first}`;
}
