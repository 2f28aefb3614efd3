import type { MessageSpec } from "../spec.js";

/** Every request starts with this; version 2 (flexible) adds tagged fields, the clientId stays int16-prefixed. */
export const RequestHeader = {
  apiKey: -1,
  name: "RequestHeader",
  type: "header",
  validVersions: "1-2",
  flexibleVersions: "2+",
  fields: [
    { name: "requestApiKey", type: "int16", versions: "0+" },
    { name: "requestApiVersion", type: "int16", versions: "0+" },
    { name: "correlationId", type: "int32", versions: "0+" },
    {
      name: "clientId",
      type: "string",
      versions: "1+",
      nullableVersions: "1+",
      flexibleVersions: "none",
      default: null,
    },
  ],
} as const satisfies MessageSpec;

/** Every response starts with this; version 1 (flexible) adds tagged fields. */
export const ResponseHeader = {
  apiKey: -1,
  name: "ResponseHeader",
  type: "header",
  validVersions: "0-1",
  flexibleVersions: "1+",
  fields: [{ name: "correlationId", type: "int32", versions: "0+" }],
} as const satisfies MessageSpec;
