/**
 * FloeSubscription's custom resource handler (functions/subscription-resource.ts) invoked with the
 * events CloudFormation's provider framework sends — Create, Update (in place and renaming), Delete
 * — against the aws backend on the emulators (issue 14).
 */
import { randomUUID } from "node:crypto";
import type { CloudFormationCustomResourceEvent } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHandler, type SubscriptionResourceHandler } from "../../../functions/subscription-resource.js";
import { Broker } from "../../../src/broker/broker.js";
import { GroupCoordinator } from "../../../src/groups/coordinator.js";
import { backendConfigFromEnv, createBackend } from "../../../src/storage/backend.js";
import type { Backend } from "../../../src/storage/ports.js";
import { SubscriptionStore } from "../../../src/subscriptions/subscription-store.js";
import { emulatorEndpoints, lambdaEnvOnEmulators } from "../../support/emulators.js";

const emulators = emulatorEndpoints();

type RequestType = "Create" | "Update" | "Delete";

function resourceEvent(
  type: RequestType,
  name: string,
  settings: Record<string, unknown>,
  extra: { physicalId?: string; old?: Record<string, unknown> } = {},
): CloudFormationCustomResourceEvent {
  const base = {
    ServiceToken: "arn:aws:lambda:us-east-1:000000000000:function:provider",
    ResponseURL: "https://cloudformation-custom-resource-response.example.com/",
    StackId: "arn:aws:cloudformation:us-east-1:000000000000:stack/Floe/1",
    RequestId: randomUUID(),
    LogicalResourceId: "OrdersSubscription",
    ResourceType: "Custom::FloeSubscription",
    ResourceProperties: {
      ServiceToken: "arn:aws:lambda:us-east-1:000000000000:function:provider",
      Name: name,
      Subscription: JSON.stringify(settings),
    },
  };
  if (type === "Create") return { ...base, RequestType: "Create" };
  if (type === "Update") {
    return {
      ...base,
      RequestType: "Update",
      PhysicalResourceId: extra.physicalId ?? name,
      OldResourceProperties: { ServiceToken: base.ServiceToken, ...extra.old },
    };
  }
  return { ...base, RequestType: "Delete", PhysicalResourceId: extra.physicalId ?? name };
}

describe.skipIf(!emulators)("the FloeSubscription resource handler on the aws backend (emulators)", () => {
  let backend: Backend;
  let broker: Broker;
  let store: SubscriptionStore;
  let groups: GroupCoordinator;
  let handler: SubscriptionResourceHandler;
  const topic = `res-${randomUUID().slice(0, 8)}`;
  const target = { type: "http", url: "https://billing.example.com/floe" };

  beforeAll(async () => {
    const env = await lambdaEnvOnEmulators("subres");
    backend = await createBackend(backendConfigFromEnv({ ...env, FLOE_STORAGE: "aws" }));
    broker = new Broker(backend, { autoCreateTopics: false });
    groups = new GroupCoordinator({ meta: backend.meta, broker });
    store = new SubscriptionStore(backend.meta);
    await broker.createTopic(topic, 2);
    await broker.produce({
      topic,
      records: [0, 0, 1].map((partition) => ({ value: Buffer.from("before"), partition })),
    });
    handler = createHandler({ env });
  });

  afterAll(async () => {
    await backend?.close();
  });

  it("Create stores the subscription and commits its starting offsets (LATEST: past what is there)", async () => {
    const answer = await handler(
      resourceEvent("Create", "billing", { topics: [topic], target, batchSize: 10, state: "Enabled" }),
    );
    expect(answer).toEqual({ PhysicalResourceId: "billing", Data: { GroupId: "floe-subscription-billing" } });
    expect(await store.get("billing")).toMatchObject({
      topics: [topic],
      target: { type: "http", url: target.url },
      batchSize: 10,
      state: "Enabled",
    });
    const offsets = await groups.fetchOffsets("floe-subscription-billing", [topic]);
    expect(offsets.map((o) => [o.partition, o.offset]).sort()).toEqual([
      [0, 2],
      [1, 1],
    ]);
  });

  it("Create of a name that exists fails, as CloudFormation must be told", async () => {
    await expect(handler(resourceEvent("Create", "billing", { topics: [topic], target }))).rejects.toThrow(
      /already exists/,
    );
  });

  let version: number;

  it("Update in place applies the stack's settings, a setting left out going back to its default", async () => {
    const before = (await store.get("billing"))!.version;
    const answer = await handler(
      resourceEvent(
        "Update",
        "billing",
        {
          topics: [topic],
          target,
          maximumRetryAttempts: 3,
          onFailureTopic: "billing-failed",
          state: "Disabled",
        },
        { old: { Name: "billing" } },
      ),
    );
    expect(answer.PhysicalResourceId).toBe("billing");
    const updated = await store.get("billing");
    expect(updated).toMatchObject({
      maximumRetryAttempts: 3,
      onFailureTopic: "billing-failed",
      state: "Disabled",
      // batchSize was 10 and the stack no longer says so: the default again.
      batchSize: 100,
      version: before + 1,
    });
    version = updated!.version;
  });

  it("an Update refused by the settings' validation fails and changes nothing", async () => {
    await expect(
      handler(resourceEvent("Update", "billing", { topics: [topic], target, batchSize: 0 })),
    ).rejects.toThrow(/batchSize/);
    expect((await store.get("billing"))?.version).toBe(version);
  });

  it("a renaming Update creates the new name; the Delete of the old one that follows removes it", async () => {
    const answer = await handler(
      resourceEvent("Update", "billing-v2", { topics: [topic], target }, { physicalId: "billing" }),
    );
    expect(answer.PhysicalResourceId).toBe("billing-v2");
    expect(await store.get("billing-v2")).toBeDefined();
    const deleted = await handler(
      resourceEvent("Delete", "billing", { topics: [topic], target }, { physicalId: "billing" }),
    );
    expect(deleted).toEqual({ PhysicalResourceId: "billing", Data: { State: "Deleted" } });
    expect(await store.get("billing")).toBeUndefined();
    expect((await groups.list()).map((g) => g.groupId)).not.toContain("floe-subscription-billing");
  });

  it("Delete of a subscription already gone succeeds (deleted through the API, or a failed create)", async () => {
    const deleted = await handler(resourceEvent("Delete", "never-created", { topics: [topic], target }));
    expect(deleted).toEqual({ PhysicalResourceId: "never-created", Data: { State: "Deleted" } });
  });
});
