import { FloeError } from "../../errors.js";
import { toPublicError } from "../error-response.js";
import { jsonResponse } from "../json-response.js";
import { defineRoute } from "../route.js";
import { HealthResponse } from "../schemas.js";

/** A probe slower than this counts as down: a health check must answer before its caller gives up. */
const PROBE_TIMEOUT_MS = 5_000;

type Check =
  | { status: "ok" }
  | { status: "error"; error: { code: string; message: string; retriable: boolean } };

async function probe(what: string, run: () => Promise<unknown>): Promise<Check> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new FloeError("REQUEST_TIMED_OUT", `${what} did not answer within ${PROBE_TIMEOUT_MS} ms`, {
            retriable: true,
            fault: "server",
          }),
        ),
      PROBE_TIMEOUT_MS,
    );
  });
  try {
    await Promise.race([run(), timeout]);
    return { status: "ok" };
  } catch (e) {
    return { status: "error", error: toPublicError(e).toJSON() };
  } finally {
    clearTimeout(timer);
  }
}

export const healthRoute = defineRoute({
  method: "GET",
  path: "/v1/health",
  group: "common",
  operationId: "health",
  summary: "Liveness and backend reachability (one metadata read, one object listing)",
  responses: {
    200: { description: "Serving, and both stores answer.", schema: HealthResponse },
    503: { description: "A store does not answer.", schema: HealthResponse },
  },
  errors: ["KAFKA_STORAGE_ERROR"],
  async handle({ broker, logger }) {
    const [metaStore, objectStore] = await Promise.all([
      // An item that never exists: the cheapest strongly consistent read the store offers.
      probe("the metadata store", () => broker.meta.get("health", "probe")),
      probe("the object store", () => broker.objects.list("segments/", { limit: 1 })),
    ]);
    const failed = [metaStore, objectStore].find((c) => c.status === "error");
    if (failed?.status !== "error") {
      return jsonResponse(200, { status: "ok", checks: { metaStore, objectStore } });
    }
    logger.warn("health check failed", { metaStore, objectStore });
    return jsonResponse(503, {
      status: "unavailable",
      checks: { metaStore, objectStore },
      error: failed.error,
    });
  },
});
