import { describe, expect, it } from "vitest";
import { Broker } from "../../../src/broker/broker.js";
import { createBackend } from "../../../src/storage/backend.js";

describe("broker-wide topic defaults (a deployment's log.retention.ms)", () => {
  it("apply to new topics that do not set their own, and never override what a topic sets", async () => {
    const backend = await createBackend({ storage: "memory" });
    const broker = new Broker(backend, { topicDefaults: { "retention.ms": "3600000" } });
    await broker.createTopic("plain", 1);
    await broker.createTopic("own", 1, { "retention.ms": 60_000 });
    expect((await broker.describeTopic("plain")).config["retention.ms"]).toBe(3_600_000);
    expect((await broker.describeTopic("own")).config["retention.ms"]).toBe(60_000);
    await backend.close();
  });
});
