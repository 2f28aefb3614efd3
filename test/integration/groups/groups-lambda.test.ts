/**
 * functions/groups.ts invoked as API Gateway (HTTP API, payload v2) invokes it, against the aws
 * backend on the emulators (DynamoDB Local + s3rver from the global setup): a group's whole life
 * through the Lambda entry point, with topics and records made through the admin and produce ones.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as adminModule from "../../../functions/admin.js";
import * as groupsModule from "../../../functions/groups.js";
import * as produceModule from "../../../functions/produce.js";
import type { ApiHandler } from "../../../src/api/api-handler.js";
import { apiGatewayEvent as event, invoke } from "../../support/api-gateway-event.js";
import { emulatorEndpoints, lambdaEnvOnEmulators } from "../../support/emulators.js";

const emulators = emulatorEndpoints();

describe.skipIf(!emulators)("the groups Lambda function on the aws backend (emulators)", () => {
  let groups: ApiHandler;
  let admin: ApiHandler;
  let produce: ApiHandler;
  const topic = `grp-fn-${randomUUID().slice(0, 8)}`;
  const group = `g-fn-${randomUUID().slice(0, 8)}`;
  const saved: Record<string, string | undefined> = {};

  beforeAll(async () => {
    for (const key of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]) saved[key] = process.env[key];
    const env = await lambdaEnvOnEmulators("grp");
    groups = groupsModule.createHandler(env);
    admin = adminModule.createHandler(env);
    produce = produceModule.createHandler(env);
    expect(
      (await invoke(admin, event("POST", "/v1/topics", { body: { name: topic, partitions: 2 } }))).status,
    ).toBe(201);
    const records = [0, 0, 1].map((partition, i) => ({ value: i, partition }));
    expect(
      (await invoke(produce, event("POST", `/v1/topics/${topic}/records`, { body: { records } }))).status,
    ).toBe(200);
  });

  afterAll(() => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  it("joins, commits, describes, leaves, resets and deletes a group", async () => {
    const joined = await invoke(
      groups,
      event("POST", `/v1/groups/${group}/heartbeat`, { body: { memberEpoch: 0, subscribedTopics: [topic] } }),
    );
    expect(joined.status).toBe(200);
    expect(joined.body.assignment).toEqual([{ topic, partitions: [0, 1] }]);
    const { memberId, memberEpoch } = joined.body;

    const committed = await invoke(
      groups,
      event("POST", `/v1/groups/${group}/offsets`, {
        body: { memberId, memberEpoch, offsets: [{ topic, partition: 0, offset: 2 }] },
      }),
    );
    expect(committed.status).toBe(200);
    const read = await invoke(
      groups,
      event("GET", `/v1/groups/${group}/offsets`, { query: `topic=${topic}` }),
    );
    expect(read.body.offsets).toEqual([
      { topic, partition: 0, offset: 2, metadata: "", highWatermark: 2, lag: 0 },
    ]);

    const described = await invoke(groups, event("GET", `/v1/groups/${group}`));
    expect(described.body).toMatchObject({ groupId: group, state: "Stable", members: [{ memberId }] });
    expect((await invoke(groups, event("GET", "/v1/groups"))).body.groups).toContainEqual({
      groupId: group,
      state: "Stable",
      members: 1,
      type: "consumer",
    });

    const left = await invoke(
      groups,
      event("POST", `/v1/groups/${group}/heartbeat`, { body: { memberId, memberEpoch: -1 } }),
    );
    expect(left.body.memberEpoch).toBe(-1);
    const reset = await invoke(
      groups,
      event("POST", `/v1/groups/${group}/offsets/reset`, { body: { topic, to: "earliest" } }),
    );
    expect(reset.body.offsets.map((o: { offset: number }) => o.offset)).toEqual([0, 0]);

    expect((await invoke(groups, event("DELETE", `/v1/groups/${group}`))).status).toBe(204);
    const gone = await invoke(groups, event("GET", `/v1/groups/${group}`));
    expect(gone.status).toBe(404);
    expect(gone.body.error.code).toBe("GROUP_ID_NOT_FOUND");
  });

  it("serves only its own routes, plus health and the OpenAPI document", async () => {
    const topics = await invoke(groups, event("GET", "/v1/topics"));
    expect(topics.status).toBe(404);
    expect(topics.body.error.code).toBe("ROUTE_NOT_FOUND");
    expect((await invoke(groups, event("GET", "/v1/health"))).status).toBe(200);
    const doc = await invoke(groups, event("GET", "/v1/openapi.json"));
    expect(doc.body.paths["/v1/groups/{group}/heartbeat"].post.operationId).toBe("heartbeat");
  });
});
