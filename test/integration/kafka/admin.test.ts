import {
  Admin,
  type ConfigDescription,
  Connection,
  type CreatedTopic,
  deleteTopicsV6,
  describeClusterV0,
  describeClusterV1,
  incrementalAlterConfigsV1,
} from "@platformatic/kafka";
import kafkajs from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DevServer } from "../../../src/server/dev-server.js";
import { apiCodes, call, kafkajsClient, rejection, startKafkaDevServer } from "./data-path-harness.js";

const { ConfigResourceTypes, Kafka } = kafkajs;

const TOPIC = ConfigResourceTypes.TOPIC;
const BROKER = ConfigResourceTypes.BROKER;

/** A KafkaJS error's Kafka code name; a retriable one (an unknown topic) arrives wrapped as the cause of KafkaJSNumberOfRetriesExceeded. */
function kafkajsType(error: unknown): string | undefined {
  const e = error as { type?: string; cause?: { type?: string } };
  return e.type ?? e.cause?.type;
}

let server: DevServer;
let kafka: InstanceType<typeof Kafka>;
let admin: ReturnType<InstanceType<typeof Kafka>["admin"]>;
let platformatic: Admin;

async function httpTopic(name: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${server.url}/v1/topics/${name}`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  server = await startKafkaDevServer();
  kafka = kafkajsClient(server);
  admin = kafka.admin();
  await admin.connect();
  platformatic = new Admin({
    clientId: "admin-test",
    bootstrapBrokers: [server.kafka?.bootstrap as string],
    retries: 0,
  });
});

afterAll(async () => {
  await admin?.disconnect();
  if (platformatic) await call((cb) => platformatic.close(cb));
  await server?.close();
});

describe("KafkaJS admin against floe dev", () => {
  it("creates topics with counts and configs that Metadata and the HTTP API both show", async () => {
    expect(
      await admin.createTopics({
        topics: [
          {
            topic: "kjs-orders",
            numPartitions: 3,
            replicationFactor: 3,
            configEntries: [{ name: "retention.ms", value: "3600000" }],
          },
          // No count: Kafka's num.partitions (1 in floe dev).
          { topic: "kjs-default" },
        ],
      }),
    ).toBe(true);
    const metadata = await admin.fetchTopicMetadata({ topics: ["kjs-orders", "kjs-default"] });
    const counts = Object.fromEntries(metadata.topics.map((t) => [t.name, t.partitions.length]));
    expect(counts).toEqual({ "kjs-orders": 3, "kjs-default": 1 });
    const http = await httpTopic("kjs-orders");
    expect(http.status).toBe(200);
    expect((http.body.partitions as unknown[]).length).toBe(3);
    expect(http.body.configOverrides).toEqual({ "retention.ms": 3600000 });
    // Creating it again is Kafka's TOPIC_ALREADY_EXISTS, which KafkaJS reports as false.
    expect(await admin.createTopics({ topics: [{ topic: "kjs-orders", numPartitions: 3 }] })).toBe(false);
  });

  it("refuses bad topics one by one with Kafka's codes, and validateOnly creates nothing", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ topic: "bad name!" }, "INVALID_TOPIC_EXCEPTION"],
      [{ topic: "kjs-bad-config", configEntries: [{ name: "segment.bytes", value: "1" }] }, "INVALID_CONFIG"],
      [
        { topic: "kjs-bad-value", configEntries: [{ name: "retention.ms", value: "soon" }] },
        "INVALID_CONFIG",
      ],
      // Names Object.prototype answers for: unknown configs, not lookups that 500 or are stored.
      ...["__proto__", "hasOwnProperty", "constructor", "toString"].map(
        (name): [Record<string, unknown>, string] => [
          { topic: `kjs-proto-${name.replaceAll("_", "u")}`, configEntries: [{ name, value: "1" }] },
          "INVALID_CONFIG",
        ],
      ),
      // max.message.bytes is Kafka's INT: past 2^31 - 1 is refused, not stored.
      [
        { topic: "kjs-int32", configEntries: [{ name: "max.message.bytes", value: "2147483648" }] },
        "INVALID_CONFIG",
      ],
      [{ topic: "kjs-zero", numPartitions: 0 }, "INVALID_PARTITIONS"],
      [{ topic: "..", numPartitions: 1 }, "INVALID_TOPIC_EXCEPTION"],
      [{ topic: "kjs-rf0", numPartitions: 1, replicationFactor: 0 }, "INVALID_REPLICATION_FACTOR"],
      [{ topic: "kjs-manual", replicaAssignment: [{ partition: 0, replicas: [1] }] }, "INVALID_REQUEST"],
    ];
    for (const [topic, type] of cases) {
      const error = await rejection(admin.createTopics({ topics: [topic as never] }));
      expect((error as { errors: { type: string }[] }).errors.map((e) => e.type)).toEqual([type]);
    }
    // waitForLeaders off: KafkaJS would otherwise wait for the leaders of a topic validateOnly never creates.
    expect(
      await admin.createTopics({
        validateOnly: true,
        waitForLeaders: false,
        topics: [{ topic: "kjs-dry", numPartitions: 2 }],
      }),
    ).toBe(true);
    expect((await httpTopic("kjs-dry")).status).toBe(404);
    expect((await httpTopic("kjs-manual")).status).toBe(404);
    expect((await httpTopic("kjs-proto-uuprotouu")).status).toBe(404);
    expect((await httpTopic("kjs-int32")).status).toBe(404);
  });

  it("adds partitions, refuses to shrink, and validateOnly leaves the count", async () => {
    await admin.createTopics({ topics: [{ topic: "kjs-grow", numPartitions: 2 }] });
    await admin.createPartitions({ topicPartitions: [{ topic: "kjs-grow", count: 5 }] });
    expect(((await httpTopic("kjs-grow")).body.partitions as unknown[]).length).toBe(5);
    const metadata = await admin.fetchTopicMetadata({ topics: ["kjs-grow"] });
    expect(metadata.topics[0].partitions.length).toBe(5);
    for (const count of [3, 5]) {
      const error = await rejection(
        admin.createPartitions({ topicPartitions: [{ topic: "kjs-grow", count }] }),
      );
      expect(kafkajsType(error)).toBe("INVALID_PARTITIONS");
    }
    await admin.createPartitions({ validateOnly: true, topicPartitions: [{ topic: "kjs-grow", count: 9 }] });
    expect(((await httpTopic("kjs-grow")).body.partitions as unknown[]).length).toBe(5);
  });

  it("describes a topic's configs with sources and synonyms, and the broker's", async () => {
    await admin.createTopics({
      topics: [{ topic: "kjs-configs", configEntries: [{ name: "cleanup.policy", value: "compact" }] }],
    });
    const { resources } = await admin.describeConfigs({
      resources: [{ type: TOPIC, name: "kjs-configs" }],
      includeSynonyms: true,
    });
    const byName = Object.fromEntries(resources[0].configEntries.map((c) => [c.configName, c]));
    expect(Object.keys(byName).sort()).toEqual([
      "cleanup.policy",
      "max.message.bytes",
      "message.timestamp.type",
      "retention.bytes",
      "retention.ms",
    ]);
    expect(byName["cleanup.policy"]).toMatchObject({
      configValue: "compact",
      readOnly: false,
      isDefault: false,
      configSource: 1, // DYNAMIC_TOPIC_CONFIG
      isSensitive: false,
      configSynonyms: [
        { configName: "cleanup.policy", configValue: "compact", configSource: 1 },
        { configName: "log.cleanup.policy", configValue: "delete", configSource: 5 },
      ],
    });
    expect(byName["retention.ms"]).toMatchObject({
      configValue: "604800000",
      isDefault: true,
      configSource: 5,
    });

    const some = await admin.describeConfigs({
      resources: [{ type: TOPIC, name: "kjs-configs", configNames: ["max.message.bytes"] }],
      includeSynonyms: false,
    });
    expect(some.resources[0].configEntries).toEqual([
      expect.objectContaining({
        configName: "max.message.bytes",
        configValue: "1048588",
        configSynonyms: [],
      }),
    ]);

    const broker = await admin.describeConfigs({
      resources: [{ type: BROKER, name: "1", configNames: ["num.partitions", "auto.create.topics.enable"] }],
      includeSynonyms: false,
    });
    expect(broker.resources[0].configEntries.map((c) => [c.configName, c.configValue, c.readOnly])).toEqual([
      ["auto.create.topics.enable", "true", true],
      ["num.partitions", "1", true],
    ]);

    const unknown = await rejection(
      admin.describeConfigs({ resources: [{ type: TOPIC, name: "kjs-nowhere" }], includeSynonyms: false }),
    );
    expect(kafkajsType(unknown)).toBe("UNKNOWN_TOPIC_OR_PARTITION");
  });

  it("alterConfigs replaces a topic's overrides as a whole, and refuses unknown configs", async () => {
    await admin.createTopics({
      topics: [
        {
          topic: "kjs-alter",
          configEntries: [
            { name: "retention.ms", value: "1000" },
            { name: "max.message.bytes", value: "2000" },
          ],
        },
      ],
    });
    await admin.alterConfigs({
      validateOnly: false,
      resources: [
        { type: TOPIC, name: "kjs-alter", configEntries: [{ name: "retention.bytes", value: "4096" }] },
      ],
    });
    // The overrides not named revert to their defaults: Kafka's AlterConfigs sets the whole set.
    expect((await httpTopic("kjs-alter")).body.configOverrides).toEqual({ "retention.bytes": 4096 });

    await admin.alterConfigs({
      validateOnly: true,
      resources: [{ type: TOPIC, name: "kjs-alter", configEntries: [{ name: "retention.ms", value: "1" }] }],
    });
    expect((await httpTopic("kjs-alter")).body.configOverrides).toEqual({ "retention.bytes": 4096 });

    const error = await rejection(
      admin.alterConfigs({
        validateOnly: false,
        resources: [
          { type: TOPIC, name: "kjs-alter", configEntries: [{ name: "min.insync.replicas", value: "2" }] },
        ],
      }),
    );
    expect(kafkajsType(error)).toBe("INVALID_CONFIG");
    const broker = await rejection(
      admin.alterConfigs({
        validateOnly: false,
        resources: [{ type: BROKER, name: "1", configEntries: [{ name: "num.partitions", value: "3" }] }],
      }),
    );
    expect(kafkajsType(broker)).toBe("INVALID_REQUEST");
  });

  it("deletes topics: gone from Metadata and from the HTTP API; an unknown one is refused", async () => {
    await admin.createTopics({ topics: [{ topic: "kjs-doomed", numPartitions: 2 }] });
    await admin.deleteTopics({ topics: ["kjs-doomed"] });
    expect(await admin.listTopics()).not.toContain("kjs-doomed");
    expect((await httpTopic("kjs-doomed")).status).toBe(404);
    const error = await rejection(admin.deleteTopics({ topics: ["kjs-doomed"] }));
    expect(kafkajsType(error)).toBe("UNKNOWN_TOPIC_OR_PARTITION");
  });
});

describe("@platformatic/kafka admin against floe dev (flexible versions)", () => {
  it("creates a topic and reads back its id, partitions, factor and configs (CreateTopics v7)", async () => {
    const [created] = await call<CreatedTopic[]>((cb) =>
      platformatic.createTopics(
        {
          topics: ["pf-events"],
          partitions: 4,
          replicas: 3,
          configs: [{ name: "max.message.bytes", value: "65536" }],
        },
        cb,
      ),
    );
    const http = await httpTopic("pf-events");
    expect(created).toEqual({
      id: http.body.topicId,
      name: "pf-events",
      partitions: 4,
      // Floe's factor is its object store's: one agent replica is what Metadata reports too.
      replicas: 1,
      configuration: {
        "cleanup.policy": "delete",
        "retention.ms": "604800000",
        "retention.bytes": "-1",
        "max.message.bytes": "65536",
        "message.timestamp.type": "CreateTime",
      },
    });
    expect((http.body.partitions as unknown[]).length).toBe(4);
    const exists = await rejection(call((cb) => platformatic.createTopics({ topics: ["pf-events"] }, cb)));
    expect(apiCodes(exists)).toEqual([36]); // TOPIC_ALREADY_EXISTS
  });

  it("describes configs with types and documentation (DescribeConfigs v4)", async () => {
    const [result] = await call<ConfigDescription[]>((cb) =>
      platformatic.describeConfigs(
        {
          resources: [
            {
              resourceType: TOPIC,
              resourceName: "pf-events",
              configurationKeys: ["cleanup.policy", "max.message.bytes"],
            },
          ],
          includeSynonyms: true,
          includeDocumentation: true,
        },
        cb,
      ),
    );
    expect(result.configs).toEqual([
      expect.objectContaining({
        name: "cleanup.policy",
        value: "delete",
        configSource: 5,
        configType: 7, // LIST
        synonyms: [{ name: "log.cleanup.policy", value: "delete", source: 5 }],
        documentation: expect.stringContaining("compact"),
      }),
      expect.objectContaining({
        name: "max.message.bytes",
        value: "65536",
        configSource: 1,
        configType: 3, // INT
        synonyms: [
          { name: "max.message.bytes", value: "65536", source: 1 },
          { name: "message.max.bytes", value: "1048588", source: 5 },
        ],
      }),
    ]);
  });

  it("alters configs incrementally: SET, DELETE, APPEND on a list, refusals per resource", async () => {
    await call((cb) =>
      platformatic.incrementalAlterConfigs(
        {
          resources: [
            {
              resourceType: TOPIC,
              resourceName: "pf-events",
              configs: [
                { name: "retention.ms", configOperation: 0, value: "60000" },
                { name: "max.message.bytes", configOperation: 1 },
              ],
            },
          ],
        },
        cb,
      ),
    );
    expect((await httpTopic("pf-events")).body.configOverrides).toEqual({ "retention.ms": 60000 });

    // APPEND to cleanup.policy (a list) is allowed, but Floe honours one policy at a time.
    const combined = await rejection(
      call((cb) =>
        platformatic.incrementalAlterConfigs(
          {
            resources: [
              {
                resourceType: TOPIC,
                resourceName: "pf-events",
                configs: [{ name: "cleanup.policy", configOperation: 2, value: "compact" }],
              },
            ],
          },
          cb,
        ),
      ),
    );
    expect(apiCodes(combined)).toEqual([40]); // INVALID_CONFIG
    // SUBTRACT of what is not there leaves the default's "delete", now an override, as Kafka writes it.
    await call((cb) =>
      platformatic.incrementalAlterConfigs(
        {
          resources: [
            {
              resourceType: TOPIC,
              resourceName: "pf-events",
              configs: [{ name: "cleanup.policy", configOperation: 3, value: "compact" }],
            },
          ],
        },
        cb,
      ),
    );
    expect(((await httpTopic("pf-events")).body.config as Record<string, unknown>)["cleanup.policy"]).toBe(
      "delete",
    );

    const refusals: [Record<string, unknown>, number][] = [
      [{ name: "retention.ms", configOperation: 2, value: "5" }, 42], // APPEND to a non-list: INVALID_REQUEST
      [{ name: "segment.ms", configOperation: 0, value: "5" }, 40], // unknown: INVALID_CONFIG
      [{ name: "retention.ms", configOperation: 0, value: "-7" }, 40], // bad value: INVALID_CONFIG
      [{ name: "max.message.bytes", configOperation: 0, value: "2147483648" }, 40], // past INT: INVALID_CONFIG
      [{ name: "valueOf", configOperation: 0, value: "1" }, 40], // Object.prototype's: unknown
      [{ name: "__proto__", configOperation: 1, value: null }, 40],
      [{ name: "retention.ms", configOperation: 9, value: "5" }, 42], // no such operation
    ];
    for (const [config, code] of refusals) {
      const error = await rejection(
        call((cb) =>
          platformatic.incrementalAlterConfigs(
            { resources: [{ resourceType: TOPIC, resourceName: "pf-events", configs: [config as never] }] },
            cb,
          ),
        ),
      );
      expect(apiCodes(error)).toEqual([code]);
    }
    const unknownTopic = await rejection(
      call((cb) =>
        platformatic.incrementalAlterConfigs(
          {
            resources: [
              {
                resourceType: TOPIC,
                resourceName: "pf-nowhere",
                configs: [{ name: "retention.ms", configOperation: 0, value: "1" }],
              },
            ],
          },
          cb,
        ),
      ),
    );
    expect(apiCodes(unknownTopic)).toEqual([3]);
    expect((await httpTopic("pf-events")).body.configOverrides).toEqual({
      "retention.ms": 60000,
      "cleanup.policy": "delete",
    });
  });

  it("adds partitions and deletes topics (CreatePartitions v3, DeleteTopics v6)", async () => {
    await call((cb) => platformatic.createTopics({ topics: ["pf-grow"], partitions: 1 }, cb));
    await call((cb) => platformatic.createPartitions({ topics: [{ name: "pf-grow", count: 3 }] }, cb));
    expect(((await httpTopic("pf-grow")).body.partitions as unknown[]).length).toBe(3);
    const shrink = await rejection(
      call((cb) => platformatic.createPartitions({ topics: [{ name: "pf-grow", count: 2 }] }, cb)),
    );
    expect(apiCodes(shrink)).toEqual([37]);
    await call((cb) => platformatic.deleteTopics({ topics: ["pf-grow"] }, cb));
    expect((await httpTopic("pf-grow")).status).toBe(404);
    expect(await call<string[]>((cb) => platformatic.listTopics({}, cb))).not.toContain("pf-grow");
  });
});

describe("requests only a low-level client sends", () => {
  let connection: Connection;

  beforeAll(async () => {
    connection = new Connection("admin-test-raw");
    await call((cb) => connection.connect(server.kafka?.host as string, server.kafka?.port as number, cb));
  });

  afterAll(async () => {
    await call((cb) => connection.close(cb));
  });

  it("deletes a topic by id (DeleteTopics v6) and answers an unknown id with UNKNOWN_TOPIC_ID", async () => {
    const created = await call<CreatedTopic[]>((cb) =>
      platformatic.createTopics({ topics: ["raw-by-id"] }, cb),
    );
    const id = created[0].id;
    const done = (await deleteTopicsV6.api.async(connection, [{ name: null, topicId: id }], 1000)) as {
      responses: unknown[];
    };
    expect(done.responses).toEqual([{ name: "raw-by-id", topicId: id, errorCode: 0, errorMessage: null }]);
    expect((await httpTopic("raw-by-id")).status).toBe(404);
    const again = await rejection(deleteTopicsV6.api.async(connection, [{ name: null, topicId: id }], 1000));
    expect((again as { response: { responses: unknown[] } }).response.responses).toEqual([
      { name: null, topicId: id, errorCode: 100, errorMessage: `Topic id ${id} does not exist.` },
    ]);
  });

  it("refuses a config resource named twice, each occurrence (IncrementalAlterConfigs v1)", async () => {
    await call((cb) => platformatic.createTopics({ topics: ["raw-twice"] }, cb));
    const resource = {
      resourceType: TOPIC,
      resourceName: "raw-twice",
      configs: [{ name: "retention.ms", configOperation: 0 as const, value: "5" }],
    };
    const error = await rejection(
      incrementalAlterConfigsV1.api.async(connection, [resource, resource], false),
    );
    const responses = (error as { response: { responses: { errorCode: number }[] } }).response.responses;
    expect(responses.map((r) => r.errorCode)).toEqual([42, 42]);
    expect((await httpTopic("raw-twice")).body.configOverrides).toEqual({});
  });

  it("describes the cluster: this agent as its only broker and controller (DescribeCluster v0, v1)", async () => {
    const expected = {
      errorCode: 0,
      errorMessage: null,
      controllerId: 1,
      brokers: [{ brokerId: 1, host: server.kafka?.host, port: server.kafka?.port, rack: null }],
    };
    const v0 = await describeClusterV0.api.async(connection, false, 1);
    expect(v0).toMatchObject(expected);
    expect(typeof v0.clusterId).toBe("string");
    expect((v0.clusterId as string).length).toBeGreaterThan(0);
    const v1 = await describeClusterV1.api.async(connection, false, 1);
    expect(v1).toMatchObject({ ...expected, endpointType: 1, clusterId: v0.clusterId });
    // Floe has no separate controllers: asking for them is MISMATCHED_ENDPOINT_TYPE, as a Kafka broker answers.
    const controllers = await rejection(describeClusterV1.api.async(connection, false, 2));
    expect(apiCodes(controllers)).toEqual([114]);
  });
});
