import { createRequire } from "node:module";
import {
  Admin,
  Consumer,
  type Message,
  ConfigResourceTypes as PlatformaticConfigTypes,
  Producer,
} from "@platformatic/kafka";
import kafkajs from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type KafkaJsMember, kafkajsMember } from "../support/kafkajs-member.js";
import {
  coordinatorStable as coordinatorStableAt,
  describeGroup as describeGroupAt,
  eventually,
  expectEachOnceBy,
  fetchedTwiceSince,
  splitsExactly,
} from "../support/group-checks.js";
import { type DevCliProcess, type E2eWorld, e2eWorld, removeWorld, startDev } from "./cli-process.js";

/**
 * A Kafka application's life against a real `floe dev` process, once with KafkaJS and once with
 * @platformatic/kafka: topics made through the client's admin; an idempotent producer writing keyed
 * and unkeyed records with headers in every codec the client has; a three-member group splitting six
 * partitions, each record read once, a leaver's partitions taken over; commit, disconnect and resume;
 * seeking by timestamp; describing the group and the topic's configs, then deleting both. Records
 * cross between the Kafka protocol and the HTTP API byte for byte, both ways.
 */

const require = createRequire(import.meta.url);
// kafkajs-snappy has no types: KafkaJS takes its codec factory into its codec table, as applications do.
const SnappyCodec = require("kafkajs-snappy") as (typeof kafkajs.CompressionCodecs)[2];
const { AssignerProtocol, CompressionCodecs, CompressionTypes, ConfigResourceTypes, Kafka, logLevel } =
  kafkajs;
CompressionCodecs[CompressionTypes.Snappy] = SnappyCodec;

type KafkaJsAdmin = ReturnType<InstanceType<typeof Kafka>["admin"]>;

/** Kafka's group.consumer.session.timeout.ms for this floe dev: a member that vanishes is noticed soon. */
const SESSION_MS = 6_000;
/** A RecordBatch's compression codec ids (its attributes' low three bits), by name. */
const CODECS = ["none", "gzip", "snappy", "lz4", "zstd"];

let world: E2eWorld;
let dev: DevCliProcess | undefined;
let bootstrap: string;
let url: string;

beforeAll(async () => {
  world = await e2eWorld("floe-e2e-kafka-clients-");
  url = world.url;
  dev = await startDev(world, ["--group-session-timeout-ms", String(SESSION_MS)]);
  if (!dev.kafka) throw new Error(`floe dev announced no Kafka listener:\n${dev.stdout}`);
  bootstrap = dev.kafka.bootstrap;
});

const describeGroup = (groupId: string) => describeGroupAt(url, groupId);
const coordinatorStable = (groupId: string, members: number) => coordinatorStableAt(url, groupId, members);

afterAll(async () => {
  await dev?.stop();
  removeWorld(world);
});

/** A record as bytes, compared in base64 so a failure shows which bytes differ. */
interface Bytes {
  key: string | null;
  value: string | null;
  headers: Record<string, string | null>;
}

const b64 = (bytes: Buffer | Uint8Array | string | null | undefined): string | null =>
  bytes === null || bytes === undefined ? null : Buffer.from(bytes).toString("base64");

/** Sorted by value, so records read from several partitions compare as one list. */
const byValue = (records: Bytes[]): Bytes[] =>
  [...records].sort((a, b) => String(a.value).localeCompare(String(b.value)));

/** A value that is not UTF-8, so nothing on the way may treat it as text. */
const payload = (label: string) => Buffer.concat([Buffer.from([0xff, 0x00, 0xfe]), Buffer.from(label)]);

async function httpJson<T>(path: string, init?: RequestInit): Promise<{ status: number; body: T }> {
  const res = await fetch(`${url}${path}`, init);
  return { status: res.status, body: (await res.json()) as T };
}

interface Stored extends Bytes {
  offset: number;
  timestamp: number;
}

/** Every record of a partition over HTTP, keys, values and headers in base64. */
async function httpRecords(topic: string, partition: number): Promise<Stored[]> {
  const { status, body } = await httpJson<{ records: Stored[] }>(
    `/v1/topics/${topic}/partitions/${partition}/records?offset=0&encoding=base64&maxRecords=1000`,
  );
  expect(status).toBe(200);
  return body.records;
}

async function httpTopicRecords(topic: string, partitions: number): Promise<Stored[]> {
  const all: Stored[] = [];
  for (let p = 0; p < partitions; p++) all.push(...(await httpRecords(topic, p)));
  return all;
}

/**
 * The topic's records over HTTP are exactly `sent` (keys, values and headers byte for byte), and
 * each of `keys` landed in one partition only.
 */
async function expectStoredAsSent(topic: string, partitions: number, sent: Bytes[], keys: string[]) {
  const stored = await httpTopicRecords(topic, partitions);
  expect(byValue(stored.map(({ key, value, headers }) => ({ key, value, headers })))).toEqual(byValue(sent));
  for (const key of keys) {
    const holding = new Set<number>();
    for (let p = 0; p < partitions; p++)
      if ((await httpRecords(topic, p)).some((r) => r.key === b64(key))) holding.add(p);
    expect(holding.size, key).toBe(1);
  }
}

interface BatchInfo {
  compression: string;
  producerId: bigint;
  baseSequence: number;
  records: number;
}

/**
 * The headers of a partition's stored batches, read from the bytes the HTTP API returns as stored
 * (RecordBatch v2: attributes at byte 21, producerId at 43, baseSequence at 53, record count at 57).
 */
async function httpBatches(topic: string, partition: number): Promise<BatchInfo[]> {
  const res = await fetch(`${url}/v1/topics/${topic}/partitions/${partition}/records?offset=0`, {
    headers: { accept: "application/vnd.kafka.record-batch.v2" },
  });
  expect(res.status).toBe(200);
  const bytes = Buffer.from(await res.arrayBuffer());
  const batches: BatchInfo[] = [];
  for (let at = 0; at + 61 <= bytes.length; at += 12 + bytes.readInt32BE(at + 8)) {
    batches.push({
      compression: CODECS[bytes.readInt16BE(at + 21) & 7],
      producerId: bytes.readBigInt64BE(at + 43),
      baseSequence: bytes.readInt32BE(at + 53),
      records: bytes.readInt32BE(at + 57),
    });
  }
  return batches;
}

/** An idempotent producer's batches in one partition: its one producer id, sequences without gaps from 0. */
function expectIdempotentBatches(batches: BatchInfo[], producerId: bigint): void {
  let sequence = 0;
  for (const batch of batches) {
    expect(batch.producerId).toBe(producerId);
    expect(batch.baseSequence).toBe(sequence);
    sequence += batch.records;
  }
}

/** One record over the HTTP API into a given partition, its key, value and header bytes in base64. */
async function httpProduce(topic: string, partition: number, record: Bytes): Promise<number> {
  const { status, body } = await httpJson<{ offsets: { partition: number; offset: number }[] }>(
    `/v1/topics/${topic}/records?encoding=base64`,
    {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ records: [{ ...record, partition }] }),
    },
  );
  expect(status).toBe(200);
  return body.offsets[0].offset;
}

/** A record only the HTTP API wrote, for a Kafka consumer to read back. */
const FROM_HTTP: Bytes = {
  key: b64(Buffer.from([0x00, 0xc3, 0x28])),
  value: b64(payload("from-http")),
  headers: { origin: b64("http"), raw: b64(Buffer.from([0xff, 0xfe, 0x00])) },
};

/** Who read a value, from which partition and offset. */
interface Delivery {
  by: string;
  partition: number;
  offset: number;
}
type Seen = Map<string, Delivery[]>;

function see(seen: Seen, value: string, delivery: Delivery): void {
  seen.set(value, [...(seen.get(value) ?? []), delivery]);
}

async function httpTopicStatus(topic: string): Promise<number> {
  return (await fetch(`${url}/v1/topics/${topic}`)).status;
}

// ---------------------------------------------------------------------------------------------

describe("KafkaJS against floe dev", () => {
  const T = { records: "kjs-records", group: "kjs-group", resume: "kjs-resume", times: "kjs-times" };
  const GROUP = "kjs-group";
  let admin: KafkaJsAdmin;

  /** A client of its own: KafkaJS shares committed offsets between the consumers of one Kafka instance. */
  const kafka = (clientId: string) =>
    new Kafka({ brokers: [bootstrap], clientId, logLevel: logLevel.NOTHING });

  beforeAll(async () => {
    admin = kafka("kjs-admin").admin();
    await admin.connect();
  });

  afterAll(async () => {
    await admin?.disconnect();
  });

  async function produce(topic: string, prefix: string, count: number): Promise<string[]> {
    const producer = kafka(`kjs-${prefix}`).producer({ idempotent: true });
    await producer.connect();
    try {
      const values = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
      await producer.send({ topic, messages: values.map((value) => ({ key: value, value })) });
      return values;
    } finally {
      await producer.disconnect();
    }
  }

  /** A consumer in `groupId` reading `topic`, recording what it reads in `seen` (by value). */
  function member(
    groupId: string,
    topic: string,
    name: string,
    seen: Seen,
    options: { autoCommit?: boolean; fromBeginning?: boolean } = {},
  ): Promise<KafkaJsMember> {
    return kafkajsMember(kafka(name), {
      groupId,
      topic,
      name,
      sessionTimeoutMs: SESSION_MS,
      ...options,
      onMessage: ({ partition, offset, value }) => see(seen, value, { by: name, partition, offset }),
    });
  }

  it("creates topics through admin.createTopics, as the HTTP API then shows them", async () => {
    expect(
      await admin.createTopics({
        topics: [
          { topic: T.records, numPartitions: 3 },
          {
            topic: T.group,
            numPartitions: 6,
            configEntries: [{ name: "retention.ms", value: "3600000" }],
          },
          { topic: T.resume, numPartitions: 2 },
          { topic: T.times, numPartitions: 1 },
        ],
      }),
    ).toBe(true);
    for (const [topic, partitions] of [
      [T.records, 3],
      [T.group, 6],
      [T.resume, 2],
      [T.times, 1],
    ] as const) {
      const { status, body } = await httpJson<{ partitions: unknown[] }>(`/v1/topics/${topic}`);
      expect(status).toBe(200);
      expect(body.partitions).toHaveLength(partitions);
    }
    const group = await httpJson<{ configOverrides: Record<string, unknown> }>(`/v1/topics/${T.group}`);
    expect(group.body.configOverrides).toEqual({ "retention.ms": 3600000 });
  });

  it("an idempotent producer's keyed and unkeyed records with headers, uncompressed, gzip and snappy: stored as sent, read over HTTP byte for byte; KafkaJS reads them and a record the HTTP API wrote", async () => {
    const producer = kafka("kjs-idempotent").producer({ idempotent: true });
    await producer.connect();
    const sent: Bytes[] = [];
    try {
      for (const [codec, compression] of [
        ["none", CompressionTypes.None],
        ["gzip", CompressionTypes.GZIP],
        ["snappy", CompressionTypes.Snappy],
      ] as const) {
        // Four keyed (two keys, so each key's partition can be checked), two unkeyed.
        const messages = Array.from({ length: 6 }, (_, i) => ({
          key: i < 4 ? Buffer.from(`user-${i % 2}`) : null,
          value: payload(`${codec}-${i}`),
          headers: { codec, raw: Buffer.from([0xff, i]) },
        }));
        await producer.send({ topic: T.records, acks: -1, compression, messages });
        sent.push(
          ...messages.map((m) => ({
            key: b64(m.key),
            value: b64(m.value),
            headers: { codec: b64(codec), raw: b64(m.headers.raw) },
          })),
        );
      }
    } finally {
      await producer.disconnect();
    }

    // A key's records share a partition.
    await expectStoredAsSent(T.records, 3, sent, ["user-0", "user-1"]);
    // Stored as KafkaJS compressed them, under one producer id with gapless sequences per partition.
    const batches = [0, 1, 2].map((p) => httpBatches(T.records, p));
    const byPartition = await Promise.all(batches);
    expect(new Set(byPartition.flat().map((b) => b.compression))).toEqual(
      new Set(["none", "gzip", "snappy"]),
    );
    const producerId = byPartition.flat()[0].producerId;
    expect(producerId).toBeGreaterThanOrEqual(0n);
    for (const partition of byPartition) expectIdempotentBatches(partition, producerId);

    const httpOffset = await httpProduce(T.records, 1, FROM_HTTP);
    const consumer = kafka("kjs-records-reader").consumer({
      groupId: "kjs-records-reader",
      maxWaitTimeInMs: 200,
    });
    const read: (Bytes & { partition: number; offset: number })[] = [];
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: T.records, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ partition, message }) => {
          const headers: Record<string, string | null> = {};
          for (const [name, value] of Object.entries(message.headers ?? {}))
            headers[name] = Array.isArray(value) ? b64(value.at(-1)) : b64(value);
          read.push({
            key: b64(message.key),
            value: b64(message.value),
            headers,
            partition,
            offset: Number(message.offset),
          });
        },
      });
      await eventually("KafkaJS reads every record", () => read.length >= sent.length + 1);
    } finally {
      await consumer.disconnect();
    }
    expect(read).toHaveLength(sent.length + 1);
    const fromHttp = read.find((r) => r.value === FROM_HTTP.value);
    expect(fromHttp).toEqual({ ...FROM_HTTP, partition: 1, offset: httpOffset });
    expect(
      byValue(read.filter((r) => r !== fromHttp).map(({ key, value, headers }) => ({ key, value, headers }))),
    ).toEqual(byValue(sent));
  });

  describe("a group of three on six partitions", () => {
    const seen: Seen = new Map();
    let members: KafkaJsMember[] = [];

    afterAll(async () => {
      for (const m of members) await m.consumer.disconnect();
    });

    it("splits the partitions two each and reads every record once", async () => {
      for (const name of ["kjs-a", "kjs-b", "kjs-c"]) members.push(await member(GROUP, T.group, name, seen));
      await eventually(
        "the three members split the partitions",
        async () =>
          splitsExactly(
            members.map((m) => m.assigned),
            6,
          ) && (await coordinatorStable(GROUP, 3)),
      );
      expect(members.map((m) => m.assigned.length)).toEqual([2, 2, 2]);
      await fetchedTwiceSince(() => members.map((m) => m.fetches));
      const values = await produce(T.group, "first", 60);
      await eventually("every record is read", () => values.every((v) => seen.has(v)));
      expectEachOnceBy(values, seen, members);
    });

    it("gives a leaver's partitions to the other two, who read every later record once; describeGroups shows them", async () => {
      const [leaver, ...stay] = members;
      await leaver.consumer.disconnect();
      members = stay;
      await eventually(
        "the two remaining members take over the leaver's partitions",
        async () =>
          splitsExactly(
            stay.map((m) => m.assigned),
            6,
          ) && (await coordinatorStable(GROUP, 2)),
      );
      await fetchedTwiceSince(() => stay.map((m) => m.fetches));
      const values = await produce(T.group, "second", 60);
      await eventually("every record is read", () => values.every((v) => seen.has(v)));
      expectEachOnceBy(values, seen, stay);

      const { groups } = await admin.describeGroups([GROUP]);
      expect(groups).toHaveLength(1);
      expect(groups[0]).toMatchObject({ groupId: GROUP, state: "Stable", protocolType: "consumer" });
      const described = groups[0].members
        .map((m) => ({
          clientId: m.clientId,
          partitions: [
            ...(AssignerProtocol.MemberAssignment.decode(m.memberAssignment)?.assignment[T.group] ?? []),
          ].sort(),
        }))
        .sort((a, b) => a.clientId.localeCompare(b.clientId));
      expect(described).toEqual(stay.map((m) => ({ clientId: m.name, partitions: m.assigned })));
    });
  });

  it("a consumer that committed and left is followed by one that resumes after the commit: nothing read twice or skipped", async () => {
    const groupId = "kjs-resume";
    const seen: Seen = new Map();
    const first = await produce(T.resume, "before", 20);
    const one = await member(groupId, T.resume, "kjs-first-run", seen, { autoCommit: false });
    try {
      await eventually("the first run reads everything", () => first.every((v) => seen.has(v)));
      const next = new Map<number, number>();
      for (const deliveries of seen.values())
        for (const { partition, offset } of deliveries)
          next.set(partition, Math.max(next.get(partition) ?? 0, offset + 1));
      await one.consumer.commitOffsets(
        [...next].map(([partition, offset]) => ({ topic: T.resume, partition, offset: String(offset) })),
      );
      const [committed] = await admin.fetchOffsets({ groupId, topics: [T.resume] });
      expect(committed.partitions.map((p) => [p.partition, Number(p.offset)]).sort()).toEqual(
        [...next].sort(),
      );
    } finally {
      await one.consumer.disconnect();
    }
    const second = await produce(T.resume, "after", 20);
    const two = await member(groupId, T.resume, "kjs-second-run", seen, { autoCommit: false });
    try {
      await eventually("the second run reads the new records", () => second.every((v) => seen.has(v)));
    } finally {
      await two.consumer.disconnect();
    }
    for (const v of first) expect(seen.get(v)?.map((d) => d.by)).toEqual(["kjs-first-run"]);
    for (const v of second) expect(seen.get(v)?.map((d) => d.by)).toEqual(["kjs-second-run"]);
    expect(seen.size).toBe(40);
  });

  it("finds offsets by timestamp (fetchTopicOffsetsByTimestamp) and seeks a consumer there", async () => {
    // Explicit CreateTime timestamps a second apart, an hour ago.
    const base = Date.now() - 3_600_000;
    const producer = kafka("kjs-times").producer({ idempotent: true });
    await producer.connect();
    try {
      await producer.send({
        topic: T.times,
        messages: Array.from({ length: 10 }, (_, i) => ({
          value: `t-${i}`,
          timestamp: String(base + i * 1000),
        })),
      });
    } finally {
      await producer.disconnect();
    }
    // The first record at or after the time; past the last one, the end (KafkaJS maps Kafka's -1 to it).
    expect(await admin.fetchTopicOffsetsByTimestamp(T.times, base + 4500)).toEqual([
      { partition: 0, offset: "5" },
    ]);
    expect(await admin.fetchTopicOffsetsByTimestamp(T.times, base)).toEqual([{ partition: 0, offset: "0" }]);
    expect(await admin.fetchTopicOffsetsByTimestamp(T.times, base + 60_000)).toEqual([
      { partition: 0, offset: "10" },
    ]);

    // A new group starting at the end (fromBeginning false) reads only what the seek points at.
    const read: { value: string; offset: number; timestamp: number }[] = [];
    const consumer = kafka("kjs-seeker").consumer({ groupId: "kjs-seeker", maxWaitTimeInMs: 200 });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: T.times, fromBeginning: false });
      await consumer.run({
        eachMessage: async ({ message }) => {
          read.push({
            value: String(message.value),
            offset: Number(message.offset),
            timestamp: Number(message.timestamp),
          });
        },
      });
      const [{ offset }] = await admin.fetchTopicOffsetsByTimestamp(T.times, base + 4500);
      consumer.seek({ topic: T.times, partition: 0, offset });
      await eventually("the consumer reads to the end", () => read.some((r) => r.offset === 9));
    } finally {
      await consumer.disconnect();
    }
    expect(read).toEqual(
      [5, 6, 7, 8, 9].map((i) => ({ value: `t-${i}`, offset: i, timestamp: base + i * 1000 })),
    );
  });

  it("describes the topic's configs, deletes the empty group and the topic; the HTTP API agrees", async () => {
    await eventually(
      "the group's members have left",
      async () => (await describeGroup(GROUP))?.members.length === 0,
    );
    const { resources } = await admin.describeConfigs({
      resources: [{ type: ConfigResourceTypes.TOPIC, name: T.group }],
      includeSynonyms: false,
    });
    const configs = Object.fromEntries(resources[0].configEntries.map((c) => [c.configName, c]));
    expect(configs["retention.ms"]).toMatchObject({ configValue: "3600000", isDefault: false });
    expect(configs["cleanup.policy"]).toMatchObject({ configValue: "delete", isDefault: true });

    expect(await admin.deleteGroups([GROUP])).toEqual([{ groupId: GROUP, errorCode: 0 }]);
    expect((await fetch(`${url}/v1/groups/${GROUP}`)).status).toBe(404);
    expect((await admin.listGroups()).groups.map((g) => g.groupId)).not.toContain(GROUP);

    await admin.deleteTopics({ topics: [T.group] });
    expect(await httpTopicStatus(T.group)).toBe(404);
    expect(await admin.listTopics()).not.toContain(T.group);
  });
});

// ---------------------------------------------------------------------------------------------

describe("@platformatic/kafka against floe dev", () => {
  const T = { records: "plt-records", group: "plt-group", resume: "plt-resume", times: "plt-times" };
  const GROUP = "plt-group";
  let admin: Admin;

  beforeAll(() => {
    admin = new Admin({ clientId: "plt-admin", bootstrapBrokers: [bootstrap] });
  });

  afterAll(async () => {
    await admin?.close();
  });

  type Buffers = Consumer<Buffer, Buffer, Buffer, Buffer>;

  function consumer(
    groupId: string,
    clientId: string,
    groupProtocol: "classic" | "consumer" = "classic",
  ): Buffers {
    return new Consumer({
      groupId,
      clientId,
      bootstrapBrokers: [bootstrap],
      groupProtocol,
      sessionTimeout: SESSION_MS,
      rebalanceTimeout: SESSION_MS,
      heartbeatInterval: 200,
      maxWaitTime: 200,
    });
  }

  async function produce(topic: string, prefix: string, count: number): Promise<string[]> {
    const producer = new Producer({
      clientId: `plt-${prefix}`,
      bootstrapBrokers: [bootstrap],
      idempotent: true,
    });
    try {
      const values = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
      await producer.send({
        messages: values.map((value) => ({ topic, key: Buffer.from(value), value: Buffer.from(value) })),
      });
      return values;
    } finally {
      await producer.close();
    }
  }

  function bytesOf(m: Message<Buffer, Buffer, Buffer, Buffer>): Bytes {
    const headers: Record<string, string | null> = {};
    for (const [name, value] of m.headers) headers[name.toString()] = b64(value);
    return { key: b64(m.key), value: b64(m.value), headers };
  }

  it("creates topics through Admin.createTopics, as the HTTP API then shows them", async () => {
    const created = [
      ...(await admin.createTopics({
        topics: [
          { topic: T.records, partitions: 3 },
          { topic: T.resume, partitions: 2 },
          { topic: T.times, partitions: 1 },
        ],
      })),
      ...(await admin.createTopics({
        topics: [T.group],
        partitions: 6,
        configs: [{ name: "retention.ms", value: "3600000" }],
      })),
    ];
    expect(created.map((t) => [t.name, t.partitions]).sort()).toEqual(
      [
        [T.records, 3],
        [T.resume, 2],
        [T.times, 1],
        [T.group, 6],
      ].sort(),
    );
    for (const t of created) {
      const { status, body } = await httpJson<{ partitions: unknown[] }>(`/v1/topics/${t.name}`);
      expect(status).toBe(200);
      expect(body.partitions).toHaveLength(t.partitions);
    }
    const group = await httpJson<{ configOverrides: Record<string, unknown> }>(`/v1/topics/${T.group}`);
    expect(group.body.configOverrides).toEqual({ "retention.ms": 3600000 });
  });

  it("an idempotent producer's keyed and unkeyed records with headers, uncompressed, gzip, snappy and lz4: stored as sent, read over HTTP byte for byte; a consumer reads them and a record the HTTP API wrote", async () => {
    // Every codec it has on Node 20: its zstd needs node:zlib's zstd (Node 22.15+), which Node 20 lacks.
    const producer = new Producer({
      clientId: "plt-idempotent",
      bootstrapBrokers: [bootstrap],
      idempotent: true,
    });
    const sent: Bytes[] = [];
    try {
      for (const compression of ["none", "gzip", "snappy", "lz4"] as const) {
        const messages = Array.from({ length: 6 }, (_, i) => ({
          topic: T.records,
          key: i < 4 ? Buffer.from(`user-${i % 2}`) : undefined,
          value: payload(`${compression}-${i}`),
          headers: new Map([
            [Buffer.from("codec"), Buffer.from(compression)],
            [Buffer.from("raw"), Buffer.from([0xff, i])],
          ]),
        }));
        await producer.send({ messages, compression, acks: -1 });
        sent.push(
          ...messages.map((m) => ({
            key: b64(m.key),
            value: b64(m.value),
            headers: { codec: b64(compression), raw: b64(Buffer.from([0xff, messages.indexOf(m)])) },
          })),
        );
      }
    } finally {
      await producer.close();
    }

    await expectStoredAsSent(T.records, 3, sent, ["user-0", "user-1"]);
    const byPartition = await Promise.all([0, 1, 2].map((p) => httpBatches(T.records, p)));
    expect(new Set(byPartition.flat().map((b) => b.compression))).toEqual(
      new Set(["none", "gzip", "snappy", "lz4"]),
    );
    const producerId = byPartition.flat()[0].producerId;
    expect(producerId).toBeGreaterThanOrEqual(0n);
    for (const partition of byPartition) expectIdempotentBatches(partition, producerId);

    const httpOffset = await httpProduce(T.records, 1, FROM_HTTP);
    const reader = consumer("plt-records-reader", "plt-records-reader");
    const read: (Bytes & { partition: number; offset: number })[] = [];
    try {
      const stream = await reader.consume({ topics: [T.records], mode: "earliest", autocommit: false });
      stream.on("data", (m: Message<Buffer, Buffer, Buffer, Buffer>) =>
        read.push({ ...bytesOf(m), partition: m.partition, offset: Number(m.offset) }),
      );
      await eventually("the consumer reads every record", () => read.length >= sent.length + 1);
    } finally {
      await reader.close(true);
    }
    expect(read).toHaveLength(sent.length + 1);
    const fromHttp = read.find((r) => r.value === FROM_HTTP.value);
    expect(fromHttp).toEqual({ ...FROM_HTTP, partition: 1, offset: httpOffset });
    expect(
      byValue(read.filter((r) => r !== fromHttp).map(({ key, value, headers }) => ({ key, value, headers }))),
    ).toEqual(byValue(sent));
  });

  describe("a group of three on six partitions", () => {
    const seen: Seen = new Map();
    const members: Buffers[] = [];
    const fetches = new Map<string, number>();
    const fetchCounts = () => members.map((c) => fetches.get(c.clientId) ?? 0);
    const assigned = (c: Buffers) =>
      (c.assignments ?? []).flatMap((a) => (a.topic === T.group ? a.partitions : [])).sort();
    const named = () => members.map((c) => ({ name: c.clientId, assigned: assigned(c) }));

    afterAll(async () => {
      for (const c of members) await c.close(true);
    });

    it("splits the partitions two each and reads every record once", async () => {
      for (const clientId of ["plt-a", "plt-b", "plt-c"]) {
        const c = consumer(GROUP, clientId);
        members.push(c);
        const stream = await c.consume({ topics: [T.group], mode: "earliest", autocommit: true });
        stream.on("fetch", () => fetches.set(clientId, (fetches.get(clientId) ?? 0) + 1));
        stream.on("data", (m: Message<Buffer, Buffer, Buffer, Buffer>) =>
          see(seen, m.value.toString(), { by: clientId, partition: m.partition, offset: Number(m.offset) }),
        );
      }
      await eventually(
        "the three members split the partitions",
        async () => splitsExactly(members.map(assigned), 6) && (await coordinatorStable(GROUP, 3)),
      );
      expect(members.map((c) => assigned(c).length)).toEqual([2, 2, 2]);
      await fetchedTwiceSince(fetchCounts);
      const values = await produce(T.group, "first", 60);
      await eventually("every record is read", () => values.every((v) => seen.has(v)));
      expectEachOnceBy(values, seen, named());
    });

    it("gives a leaver's partitions to the other two, who read every later record once; describeGroups shows them", async () => {
      const leaver = members.shift() as Buffers;
      await leaver.close(true);
      await eventually(
        "the two remaining members take over the leaver's partitions",
        async () => splitsExactly(members.map(assigned), 6) && (await coordinatorStable(GROUP, 2)),
      );
      await fetchedTwiceSince(fetchCounts);
      const values = await produce(T.group, "second", 60);
      await eventually("every record is read", () => values.every((v) => seen.has(v)));
      expectEachOnceBy(values, seen, named());

      const groups = await admin.describeGroups({ groups: [GROUP] });
      const group = groups.get(GROUP);
      expect(group).toMatchObject({ id: GROUP, state: "Stable", protocolType: "consumer" });
      const described = [...(group?.members.values() ?? [])]
        .map((m) => ({
          clientId: m.clientId,
          partitions: [...(m.assignments?.get(T.group)?.partitions ?? [])].sort(),
        }))
        .sort((a, b) => a.clientId.localeCompare(b.clientId));
      expect(described).toEqual(named().map((m) => ({ clientId: m.name, partitions: m.assigned })));
    });
  });

  it("a consumer that committed and left is followed by one that resumes after the commit: nothing read twice or skipped (group.protocol=consumer)", async () => {
    const groupId = "plt-resume";
    const seen: Seen = new Map();
    const first = await produce(T.resume, "before", 20);
    const run = async (clientId: string, values: string[], commit: boolean) => {
      const c = consumer(groupId, clientId, "consumer");
      try {
        const stream = await c.consume({
          topics: [T.resume],
          mode: "committed",
          fallbackMode: "earliest",
          autocommit: false,
        });
        const last = new Map<number, Message<Buffer, Buffer, Buffer, Buffer>>();
        stream.on("data", (m: Message<Buffer, Buffer, Buffer, Buffer>) => {
          see(seen, m.value.toString(), { by: clientId, partition: m.partition, offset: Number(m.offset) });
          last.set(m.partition, m);
        });
        await eventually(`${clientId} reads its records`, () => values.every((v) => seen.has(v)));
        if (commit) {
          // The last record read in each partition, committed as its offset + 1.
          for (const m of last.values()) await m.commit();
          const [offsets] = await admin.listConsumerGroupOffsets({ groups: [groupId] });
          const committed = offsets.topics
            .flatMap((t) => t.partitions.map((p) => [p.partitionIndex, Number(p.committedOffset)]))
            .sort();
          expect(committed).toEqual(
            [...last.values()].map((m) => [m.partition, Number(m.offset) + 1]).sort(),
          );
        }
      } finally {
        await c.close(true);
      }
    };
    await run("plt-first-run", first, true);
    const second = await produce(T.resume, "after", 20);
    await run("plt-second-run", second, false);
    for (const v of first) expect(seen.get(v)?.map((d) => d.by)).toEqual(["plt-first-run"]);
    for (const v of second) expect(seen.get(v)?.map((d) => d.by)).toEqual(["plt-second-run"]);
    expect(seen.size).toBe(40);
  });

  it("finds offsets by timestamp (listOffsets) and consumes from there", async () => {
    const base = BigInt(Date.now() - 3_600_000);
    const producer = new Producer({ clientId: "plt-times", bootstrapBrokers: [bootstrap], idempotent: true });
    try {
      await producer.send({
        messages: Array.from({ length: 10 }, (_, i) => ({
          topic: T.times,
          value: Buffer.from(`t-${i}`),
          timestamp: base + BigInt(i * 1000),
        })),
      });
    } finally {
      await producer.close();
    }
    const at = async (timestamp: bigint) => {
      const [topic] = await admin.listOffsets({
        topics: [{ name: T.times, partitions: [{ partitionIndex: 0, timestamp }] }],
      });
      return { offset: topic.partitions[0].offset, timestamp: topic.partitions[0].timestamp };
    };
    // The first record at or after the time, with its timestamp; past the last one, Kafka's -1.
    expect(await at(base + 4500n)).toEqual({ offset: 5n, timestamp: base + 5000n });
    expect(await at(base)).toEqual({ offset: 0n, timestamp: base });
    expect((await at(base + 60_000n)).offset).toBe(-1n);

    const c = consumer("plt-seeker", "plt-seeker");
    const read: { value: string; offset: bigint; timestamp: bigint }[] = [];
    try {
      // The consumer's own listOffsets by timestamp, then a stream from that offset.
      const offsets = await c.listOffsets({ topics: [T.times], timestamp: base + 4500n });
      expect(offsets.get(T.times)).toEqual([5n]);
      const stream = await c.consume({
        topics: [T.times],
        mode: "manual",
        offsets: [{ topic: T.times, partition: 0, offset: offsets.get(T.times)?.[0] ?? 0n }],
      });
      stream.on("data", (m: Message<Buffer, Buffer, Buffer, Buffer>) =>
        read.push({ value: m.value.toString(), offset: m.offset, timestamp: m.timestamp }),
      );
      await eventually("the consumer reads to the end", () => read.some((r) => r.offset === 9n));
    } finally {
      await c.close(true);
    }
    expect(read).toEqual(
      [5, 6, 7, 8, 9].map((i) => ({
        value: `t-${i}`,
        offset: BigInt(i),
        timestamp: base + BigInt(i * 1000),
      })),
    );
  });

  it("describes the topic's configs, deletes the empty group and the topic; the HTTP API agrees", async () => {
    await eventually(
      "the group's members have left",
      async () => (await describeGroup(GROUP))?.members.length === 0,
    );
    const [described] = await admin.describeConfigs({
      resources: [{ resourceType: PlatformaticConfigTypes.TOPIC, resourceName: T.group }],
    });
    const configs = Object.fromEntries(described.configs.map((c) => [c.name, c.value]));
    expect(configs["retention.ms"]).toBe("3600000");
    expect(configs["cleanup.policy"]).toBe("delete");

    await admin.deleteGroups({ groups: [GROUP] });
    expect((await fetch(`${url}/v1/groups/${GROUP}`)).status).toBe(404);
    expect([...(await admin.listGroups()).keys()]).not.toContain(GROUP);

    await admin.deleteTopics({ topics: [T.group] });
    expect(await httpTopicStatus(T.group)).toBe(404);
    expect(await admin.listTopics()).not.toContain(T.group);
  });
});
