import {
  alterConfigsV2,
  createPartitionsV2,
  createPartitionsV3,
  createTopicsV5,
  createTopicsV6,
  createTopicsV7,
  deleteTopicsV4,
  deleteTopicsV5,
  deleteTopicsV6,
  describeClusterV0,
  describeClusterV1,
  describeConfigsV3,
  describeConfigsV4,
  incrementalAlterConfigsV0,
  incrementalAlterConfigsV1,
} from "@platformatic/kafka";
import { describe, expect, it } from "vitest";
import {
  kafkajsBytes,
  kafkajsRequest,
  kafkajsResponse,
  platformaticBytes,
  platformaticParse,
} from "../../support/independent-codecs.js";
import { CorruptDataError } from "../../../src/errors.js";
import { MessageCodec } from "../../../src/kafka/protocol/codec.js";
import {
  AlterConfigsRequest,
  AlterConfigsResponse,
} from "../../../src/kafka/protocol/messages/alter-configs.js";
import {
  CreatePartitionsRequest,
  CreatePartitionsResponse,
} from "../../../src/kafka/protocol/messages/create-partitions.js";
import {
  CreateTopicsRequest,
  CreateTopicsResponse,
} from "../../../src/kafka/protocol/messages/create-topics.js";
import {
  DeleteTopicsRequest,
  DeleteTopicsResponse,
} from "../../../src/kafka/protocol/messages/delete-topics.js";
import {
  DescribeClusterRequest,
  DescribeClusterResponse,
} from "../../../src/kafka/protocol/messages/describe-cluster.js";
import {
  DescribeConfigsRequest,
  DescribeConfigsResponse,
} from "../../../src/kafka/protocol/messages/describe-configs.js";
import {
  IncrementalAlterConfigsRequest,
  IncrementalAlterConfigsResponse,
} from "../../../src/kafka/protocol/messages/incremental-alter-configs.js";

const TOPIC_ID = "0b8a2a9e-1c1d-4c7a-9a0e-3c2f7f0e2b11";
const NULL_UUID = "00000000-0000-0000-0000-000000000000";

describe("CreateTopics (19) codecs", () => {
  const req = new MessageCodec(CreateTopicsRequest);
  const res = new MessageCodec(CreateTopicsResponse);

  it("decodes KafkaJS's requests (v2, v3) field for field, defaults and nulls included", async () => {
    for (const v of [2, 3]) {
      const bytes = await kafkajsBytes(
        kafkajsRequest(
          "createTopics",
          v,
        )({
          topics: [
            {
              topic: "t1",
              numPartitions: 3,
              replicationFactor: 2,
              configEntries: [
                { name: "retention.ms", value: "1000" },
                { name: "cleanup.policy", value: null },
              ],
            },
            { topic: "t2", replicaAssignment: [{ partition: 0, replicas: [1, 2] }] },
          ],
          validateOnly: true,
          timeout: 1234,
        }),
      );
      expect(req.decode(v, bytes)).toEqual({
        topics: [
          {
            name: "t1",
            numPartitions: 3,
            replicationFactor: 2,
            assignments: [],
            configs: [
              { name: "retention.ms", value: "1000" },
              { name: "cleanup.policy", value: null },
            ],
          },
          {
            name: "t2",
            numPartitions: -1,
            replicationFactor: -1,
            assignments: [{ partitionIndex: 0, brokerIds: [1, 2] }],
            configs: [],
          },
        ],
        timeoutMs: 1234,
        validateOnly: true,
      });
    }
  });

  it("decodes @platformatic/kafka's flexible requests (v5-v7)", () => {
    for (const [v, api] of [
      [5, createTopicsV5],
      [6, createTopicsV6],
      [7, createTopicsV7],
    ] as const) {
      const bytes = platformaticBytes(
        api,
        [
          {
            name: "flex",
            numPartitions: -1,
            replicationFactor: 3,
            assignments: [],
            configs: [{ name: "max.message.bytes", value: "2000" }],
          },
        ],
        30_000,
        false,
      );
      expect(req.decode(v, bytes)).toEqual({
        topics: [
          {
            name: "flex",
            numPartitions: -1,
            replicationFactor: 3,
            assignments: [],
            configs: [{ name: "max.message.bytes", value: "2000" }],
          },
        ],
        timeoutMs: 30_000,
        validateOnly: false,
      });
    }
  });

  it("encodes responses KafkaJS (v2, v3) reads, error messages included", async () => {
    for (const v of [2, 3]) {
      const bytes = res.encode(v, {
        throttleTimeMs: 0,
        topics: [
          { name: "ok", errorCode: 0, errorMessage: null },
          { name: "exists", errorCode: 36, errorMessage: "Topic 'exists' already exists." },
        ],
      });
      const decoded = await kafkajsResponse("createTopics", v).decode(bytes);
      expect(decoded.topicErrors).toEqual([
        { topic: "exists", errorCode: 36, errorMessage: "Topic 'exists' already exists." },
        { topic: "ok", errorCode: 0, errorMessage: null },
      ]);
    }
  });

  it("encodes flexible responses @platformatic/kafka reads: partitions, factor, configs, topic id (v7)", () => {
    for (const [v, api] of [
      [5, createTopicsV5],
      [6, createTopicsV6],
      [7, createTopicsV7],
    ] as const) {
      const bytes = res.encode(v, {
        throttleTimeMs: 0,
        topics: [
          {
            name: "t",
            topicId: TOPIC_ID,
            errorCode: 0,
            errorMessage: null,
            numPartitions: 4,
            replicationFactor: 1,
            configs: [
              { name: "retention.ms", value: "5", readOnly: false, configSource: 1, isSensitive: false },
              {
                name: "cleanup.policy",
                value: "delete",
                readOnly: false,
                configSource: 5,
                isSensitive: false,
              },
            ],
          },
          { name: "bad", errorCode: 37, errorMessage: "no" },
        ],
      });
      const parsed = platformaticParse(api, 19, v, bytes) as { topics: Record<string, unknown>[] };
      expect(parsed.topics[0]).toMatchObject({
        name: "t",
        errorCode: 0,
        numPartitions: 4,
        replicationFactor: 1,
        configs: [
          { name: "retention.ms", value: "5", readOnly: false, configSource: 1, isSensitive: false },
          { name: "cleanup.policy", value: "delete", readOnly: false, configSource: 5, isSensitive: false },
        ],
      });
      if (v === 7) expect(parsed.topics[0].topicId).toBe(TOPIC_ID);
      // An errored topic carries the description's defaults: -1 partitions and factor.
      expect(parsed.topics[1]).toMatchObject({
        name: "bad",
        errorCode: 37,
        errorMessage: "no",
        numPartitions: -1,
        replicationFactor: -1,
      });
    }
  });

  it("writes topicConfigErrorCode as tag 0 only when set, and reads it back", () => {
    const plain = res.encode(5, { topics: [{ name: "t", errorCode: 0 }] });
    const tagged = res.encode(5, { topics: [{ name: "t", errorCode: 0, topicConfigErrorCode: 58 }] });
    expect(tagged.length).toBeGreaterThan(plain.length);
    expect(res.decode(5, plain).topics[0].topicConfigErrorCode).toBe(0);
    expect(res.decode(5, tagged).topics[0].topicConfigErrorCode).toBe(58);
    // @platformatic/kafka reads the tag in v7 (its v5 and v6 skip tagged fields).
    const v7 = res.encode(7, { topics: [{ name: "t", errorCode: 0, topicConfigErrorCode: 58 }] });
    const parsed = platformaticParse(createTopicsV7, 19, 7, v7) as {
      topics: { topicConfigErrorCode: number }[];
    };
    expect(parsed.topics[0].topicConfigErrorCode).toBe(58);
  });

  it("refuses a truncated request with CorruptDataError", async () => {
    const bytes = await kafkajsBytes(
      kafkajsRequest("createTopics", 3)({ topics: [{ topic: "t", numPartitions: 1 }], timeout: 1 }),
    );
    for (let cut = 0; cut < bytes.length; cut++) {
      expect(() => req.decode(3, bytes.subarray(0, cut))).toThrow(CorruptDataError);
    }
  });
});

describe("DeleteTopics (20) codecs", () => {
  const req = new MessageCodec(DeleteTopicsRequest);
  const res = new MessageCodec(DeleteTopicsResponse);

  it("decodes KafkaJS's v1 request as a list of names", async () => {
    const bytes = await kafkajsBytes(kafkajsRequest("deleteTopics", 1)({ topics: ["a", "b"], timeout: 99 }));
    expect(req.decode(1, bytes)).toEqual({ topics: [], topicNames: ["a", "b"], timeoutMs: 99 });
  });

  it("decodes @platformatic/kafka's v4-v5 names and v6 names or ids", () => {
    for (const [v, api] of [
      [4, deleteTopicsV4],
      [5, deleteTopicsV5],
    ] as const) {
      expect(req.decode(v, platformaticBytes(api, [{ name: "a" }], 10)).topicNames).toEqual(["a"]);
    }
    const v6 = req.decode(
      6,
      platformaticBytes(deleteTopicsV6, [{ name: "a" }, { name: null, topicId: TOPIC_ID }], 10),
    );
    expect(v6.topics).toEqual([
      { name: "a", topicId: NULL_UUID },
      { name: null, topicId: TOPIC_ID },
    ]);
    expect(v6.topicNames).toEqual([]);
  });

  it("encodes responses KafkaJS (v1) and @platformatic/kafka (v4-v6) read", async () => {
    const value = {
      throttleTimeMs: 0,
      responses: [
        { name: "a", topicId: TOPIC_ID, errorCode: 0, errorMessage: null },
        { name: "gone", topicId: NULL_UUID, errorCode: 3, errorMessage: "Topic 'gone' does not exist." },
      ],
    };
    const k = await kafkajsResponse("deleteTopics", 1).decode(res.encode(1, value));
    expect(k.topicErrors).toEqual([
      { topic: "a", errorCode: 0 },
      { topic: "gone", errorCode: 3 },
    ]);
    for (const [v, api] of [
      [4, deleteTopicsV4],
      [5, deleteTopicsV5],
      [6, deleteTopicsV6],
    ] as const) {
      const parsed = platformaticParse(api, 20, v, res.encode(v, value)) as {
        responses: Record<string, unknown>[];
      };
      expect(parsed.responses.map((r) => [r.name, r.errorCode])).toEqual([
        ["a", 0],
        ["gone", 3],
      ]);
      if (v >= 5) expect(parsed.responses[1].errorMessage).toBe("Topic 'gone' does not exist.");
      if (v === 6) expect(parsed.responses[0].topicId).toBe(TOPIC_ID);
    }
    // v6 answers an unknown id with a null name.
    const unknownId = res.encode(6, { responses: [{ name: null, topicId: TOPIC_ID, errorCode: 100 }] });
    expect(res.decode(6, unknownId).responses[0]).toEqual({
      name: null,
      topicId: TOPIC_ID,
      errorCode: 100,
      errorMessage: null,
    });
  });
});

describe("CreatePartitions (37) codecs", () => {
  const req = new MessageCodec(CreatePartitionsRequest);
  const res = new MessageCodec(CreatePartitionsResponse);

  it("decodes KafkaJS's v0 and v1 requests, with and without assignments (KafkaJS sends none as null)", async () => {
    for (const v of [0, 1]) {
      const bytes = await kafkajsBytes(
        kafkajsRequest(
          "createPartitions",
          v,
        )({
          topicPartitions: [
            { topic: "a", count: 5 },
            { topic: "b", count: 3, assignments: [[1], [1]] },
          ],
          validateOnly: true,
          timeout: 77,
        }),
      );
      expect(req.decode(v, bytes)).toEqual({
        topics: [
          { name: "a", count: 5, assignments: null },
          { name: "b", count: 3, assignments: [{ brokerIds: [1] }, { brokerIds: [1] }] },
        ],
        timeoutMs: 77,
        validateOnly: true,
      });
    }
  });

  it("decodes @platformatic/kafka's flexible requests (v2, v3), null assignments included", () => {
    for (const [v, api] of [
      [2, createPartitionsV2],
      [3, createPartitionsV3],
    ] as const) {
      const bytes = platformaticBytes(
        api,
        [{ name: "a", count: 4, assignments: null as never }],
        1000,
        false,
      );
      expect(req.decode(v, bytes)).toEqual({
        topics: [{ name: "a", count: 4, assignments: null }],
        timeoutMs: 1000,
        validateOnly: false,
      });
    }
  });

  it("encodes responses KafkaJS and @platformatic/kafka read", async () => {
    const value = {
      results: [
        { name: "a", errorCode: 0 },
        { name: "b", errorCode: 37, errorMessage: "Topic already has 3 partitions." },
      ],
    };
    for (const v of [0, 1]) {
      const decoded = await kafkajsResponse("createPartitions", v).decode(res.encode(v, value));
      expect(decoded.topicErrors).toEqual([
        { topic: "a", errorCode: 0, errorMessage: null },
        { topic: "b", errorCode: 37, errorMessage: "Topic already has 3 partitions." },
      ]);
    }
    for (const [v, api] of [
      [2, createPartitionsV2],
      [3, createPartitionsV3],
    ] as const) {
      const parsed = platformaticParse(api, 37, v, res.encode(v, value)) as { results: unknown[] };
      expect(parsed.results).toEqual([
        { name: "a", errorCode: 0, errorMessage: null },
        { name: "b", errorCode: 37, errorMessage: "Topic already has 3 partitions." },
      ]);
    }
  });
});

describe("DescribeConfigs (32) codecs", () => {
  const req = new MessageCodec(DescribeConfigsRequest);
  const res = new MessageCodec(DescribeConfigsResponse);

  const answer = {
    throttleTimeMs: 0,
    results: [
      {
        errorCode: 0,
        errorMessage: null,
        resourceType: 2,
        resourceName: "t",
        configs: [
          {
            name: "retention.ms",
            value: "5",
            readOnly: false,
            configSource: 1,
            isSensitive: false,
            synonyms: [
              { name: "retention.ms", value: "5", source: 1 },
              { name: "log.retention.ms", value: "604800000", source: 5 },
            ],
            configType: 5,
            documentation: "How long records are kept.",
          },
        ],
      },
      {
        errorCode: 3,
        errorMessage: "Topic 'x' does not exist.",
        resourceType: 2,
        resourceName: "x",
        configs: [],
      },
    ],
  };

  it("decodes KafkaJS's v1 and v2 requests: all keys (sent as null) or some, synonyms asked", async () => {
    for (const v of [1, 2]) {
      const bytes = await kafkajsBytes(
        kafkajsRequest(
          "describeConfigs",
          v,
        )({
          resources: [
            { type: 2, name: "t", configNames: ["retention.ms"] },
            { type: 4, name: "1", configNames: [] },
          ],
          includeSynonyms: true,
        }),
      );
      expect(req.decode(v, bytes)).toEqual({
        resources: [
          { resourceType: 2, resourceName: "t", configurationKeys: ["retention.ms"] },
          { resourceType: 4, resourceName: "1", configurationKeys: null },
        ],
        includeSynonyms: true,
        includeDocumentation: false,
      });
    }
  });

  it("decodes @platformatic/kafka's v3 and v4 requests with documentation asked", () => {
    for (const [v, api] of [
      [3, describeConfigsV3],
      [4, describeConfigsV4],
    ] as const) {
      const bytes = platformaticBytes(
        api,
        [{ resourceType: 2, resourceName: "t", configurationKeys: ["cleanup.policy"] }],
        false,
        true,
      );
      expect(req.decode(v, bytes)).toEqual({
        resources: [{ resourceType: 2, resourceName: "t", configurationKeys: ["cleanup.policy"] }],
        includeSynonyms: false,
        includeDocumentation: true,
      });
    }
  });

  it("encodes responses KafkaJS (v1, v2) reads: source, synonyms, per-resource errors", async () => {
    for (const v of [1, 2]) {
      const decoded = await kafkajsResponse("describeConfigs", v).decode(res.encode(v, answer));
      expect(decoded.resources[0]).toEqual({
        errorCode: 0,
        errorMessage: null,
        resourceType: 2,
        resourceName: "t",
        configEntries: [
          {
            configName: "retention.ms",
            configValue: "5",
            readOnly: false,
            isDefault: false,
            configSource: 1,
            isSensitive: false,
            configSynonyms: [
              { configName: "retention.ms", configValue: "5", configSource: 1 },
              { configName: "log.retention.ms", configValue: "604800000", configSource: 5 },
            ],
          },
        ],
      });
      expect(decoded.resources[1]).toMatchObject({ errorCode: 3, resourceName: "x", configEntries: [] });
    }
  });

  it("encodes responses @platformatic/kafka (v3, v4) reads, with config type and documentation", () => {
    for (const [v, api] of [
      [3, describeConfigsV3],
      [4, describeConfigsV4],
    ] as const) {
      const parsed = platformaticParse(api, 32, v, res.encode(v, answer)) as { results: unknown[] };
      expect(parsed.results).toEqual(answer.results);
    }
  });
});

describe("AlterConfigs (33) and IncrementalAlterConfigs (44) codecs", () => {
  const alterReq = new MessageCodec(AlterConfigsRequest);
  const alterRes = new MessageCodec(AlterConfigsResponse);
  const incReq = new MessageCodec(IncrementalAlterConfigsRequest);
  const incRes = new MessageCodec(IncrementalAlterConfigsResponse);
  const answer = {
    responses: [
      { errorCode: 0, resourceType: 2, resourceName: "t" },
      { errorCode: 40, errorMessage: "Unknown topic config name: x", resourceType: 2, resourceName: "u" },
    ],
  };

  it("decodes KafkaJS's AlterConfigs v0 and v1, @platformatic/kafka's v2", async () => {
    const resources = [{ type: 2, name: "t", configEntries: [{ name: "cleanup.policy", value: "compact" }] }];
    const expected = {
      resources: [
        { resourceType: 2, resourceName: "t", configs: [{ name: "cleanup.policy", value: "compact" }] },
      ],
      validateOnly: true,
    };
    for (const v of [0, 1]) {
      const bytes = await kafkajsBytes(kafkajsRequest("alterConfigs", v)({ resources, validateOnly: true }));
      expect(alterReq.decode(v, bytes)).toEqual(expected);
    }
    expect(alterReq.decode(2, platformaticBytes(alterConfigsV2, expected.resources as never, true))).toEqual(
      expected,
    );
  });

  it("encodes AlterConfigs responses KafkaJS and @platformatic/kafka read", async () => {
    for (const v of [0, 1]) {
      const decoded = await kafkajsResponse("alterConfigs", v).decode(alterRes.encode(v, answer));
      expect(decoded.resources).toEqual([
        { errorCode: 0, errorMessage: null, resourceType: 2, resourceName: "t" },
        { errorCode: 40, errorMessage: "Unknown topic config name: x", resourceType: 2, resourceName: "u" },
      ]);
    }
    const parsed = platformaticParse(alterConfigsV2, 33, 2, alterRes.encode(2, answer)) as {
      responses: unknown[];
    };
    expect(parsed.responses).toEqual([
      { errorCode: 0, errorMessage: null, resourceType: 2, resourceName: "t" },
      { errorCode: 40, errorMessage: "Unknown topic config name: x", resourceType: 2, resourceName: "u" },
    ]);
  });

  it("decodes @platformatic/kafka's IncrementalAlterConfigs v0 and v1, operations and null values", () => {
    const resources = [
      {
        resourceType: 2,
        resourceName: "t",
        configs: [
          { name: "retention.ms", configOperation: 0, value: "10" },
          { name: "retention.bytes", configOperation: 1, value: null },
          { name: "cleanup.policy", configOperation: 2, value: "compact" },
        ],
      },
    ];
    for (const [v, api] of [
      [0, incrementalAlterConfigsV0],
      [1, incrementalAlterConfigsV1],
    ] as const) {
      expect(incReq.decode(v, platformaticBytes(api, resources as never, false))).toEqual({
        resources,
        validateOnly: false,
      });
      const parsed = platformaticParse(api, 44, v, incRes.encode(v, answer)) as { responses: unknown[] };
      expect(parsed.responses).toEqual([
        { errorCode: 0, errorMessage: null, resourceType: 2, resourceName: "t" },
        { errorCode: 40, errorMessage: "Unknown topic config name: x", resourceType: 2, resourceName: "u" },
      ]);
    }
  });
});

describe("DescribeCluster (60) codecs", () => {
  const req = new MessageCodec(DescribeClusterRequest);
  const res = new MessageCodec(DescribeClusterResponse);

  it("decodes @platformatic/kafka's v0 and v1 requests and encodes answers it reads", () => {
    expect(req.decode(0, platformaticBytes(describeClusterV0, true, 1))).toEqual({
      includeClusterAuthorizedOperations: true,
      endpointType: 1,
    });
    expect(req.decode(1, platformaticBytes(describeClusterV1, false, 2))).toEqual({
      includeClusterAuthorizedOperations: false,
      endpointType: 2,
    });
    const value = {
      clusterId: "floe-cluster",
      controllerId: 1,
      brokers: [{ brokerId: 1, host: "127.0.0.1", port: 9092, rack: null }],
    };
    for (const [v, api] of [
      [0, describeClusterV0],
      [1, describeClusterV1],
    ] as const) {
      const parsed = platformaticParse(api, 60, v, res.encode(v, value)) as Record<string, unknown>;
      expect(parsed).toMatchObject({
        errorCode: 0,
        errorMessage: null,
        clusterId: "floe-cluster",
        controllerId: 1,
        brokers: [{ brokerId: 1, host: "127.0.0.1", port: 9092, rack: null }],
        clusterAuthorizedOperations: -2147483648,
      });
      if (v === 1) expect(parsed.endpointType).toBe(1);
    }
  });
});
