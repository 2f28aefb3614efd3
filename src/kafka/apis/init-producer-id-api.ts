import { errorNumber } from "../error-codes.js";
import { defineApi } from "../kafka-api.js";
import { InitProducerIdRequest, InitProducerIdResponse } from "../protocol/messages/init-producer-id.js";

/**
 * InitProducerId: an idempotent producer's id and epoch (KIP-98), from the same registry as the
 * HTTP API's POST /v1/producers. Without a transactionalId every call is a new producer at epoch 0,
 * as Kafka answers (the id and epoch a v3+ client sends back are only for transactional producers).
 * With one, the same id comes back at the next epoch and fences the previous instance; Floe has no
 * transactions, so such a producer's transactional writes are refused at Produce.
 */
export const initProducerIdApi = defineApi(InitProducerIdRequest, InitProducerIdResponse, {
  async handle(request, ctx) {
    try {
      const identity = await ctx.core.broker.initProducer({ transactionalId: request.transactionalId });
      return {
        throttleTimeMs: 0,
        errorCode: 0,
        producerId: identity.producerId,
        producerEpoch: identity.producerEpoch,
      };
    } catch (e) {
      return { throttleTimeMs: 0, errorCode: errorNumber(e), producerId: -1, producerEpoch: -1 };
    }
  },
});
