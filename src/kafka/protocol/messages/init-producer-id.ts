import type { MessageSpec } from "../spec.js";

/**
 * InitProducerId (API key 22), versions 0-5: flexible from 2; 3 adds the producer's current id and
 * epoch (KIP-360); 4 and 5 change nothing on the wire (PRODUCER_FENCED, KIP-890 epoch bumps).
 */
export const InitProducerIdRequest = {
  apiKey: 22,
  name: "InitProducerIdRequest",
  type: "request",
  validVersions: "0-5",
  flexibleVersions: "2+",
  fields: [
    { name: "transactionalId", type: "string", versions: "0+", nullableVersions: "0+", default: null },
    { name: "transactionTimeoutMs", type: "int32", versions: "0+" },
    { name: "producerId", type: "int64", versions: "3+", default: -1 },
    { name: "producerEpoch", type: "int16", versions: "3+", default: -1 },
  ],
} as const satisfies MessageSpec;

export const InitProducerIdResponse = {
  apiKey: 22,
  name: "InitProducerIdResponse",
  type: "response",
  validVersions: "0-5",
  flexibleVersions: "2+",
  fields: [
    { name: "throttleTimeMs", type: "int32", versions: "0+" },
    { name: "errorCode", type: "int16", versions: "0+" },
    { name: "producerId", type: "int64", versions: "0+", default: -1 },
    { name: "producerEpoch", type: "int16", versions: "0+" },
  ],
} as const satisfies MessageSpec;
