import {
  apiVersionsV3,
  Connection,
  Consumer,
  consumerGroupHeartbeatV1,
  findCoordinatorV6,
  type Message,
  stringDeserializers,
} from "@platformatic/kafka";
import { type ChildProcess, spawn } from "node:child_process";
import kafkajs from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type KafkaJsMember, kafkajsMember } from "../../support/kafkajs-member.js";
import type { GroupDescription } from "../../../src/groups/types.js";
import {
  coordinatorStable as coordinatorStableAt,
  describeGroup as describeGroupAt,
  eventually,
  expectEachOnceBy,
  fetchedTwiceSince,
  splitsExactly,
} from "../../support/group-checks.js";
import type { DevServer } from "../../../src/server/dev-server.js";
import { call, createTopic, startKafkaDevServer } from "./data-path-harness.js";

const { Kafka, logLevel } = kafkajs;

// Consumer groups over the Kafka protocol against a real floe dev: KafkaJS and @platformatic/kafka
// on the classic protocol (JoinGroup, SyncGroup, Heartbeat, LeaveGroup), @platformatic/kafka on
// KIP-848's ConsumerGroupHeartbeat, all served by Floe's coordinator.

/** Kafka's group.consumer.session.timeout.ms for this server: short, so KIP-848 members heartbeat often. */
const SESSION_MS = 6_000;

let server: DevServer;
let bootstrap: string;

beforeAll(async () => {
  server = await startKafkaDevServer({ groupSessionTimeoutMs: SESSION_MS });
  bootstrap = server.kafka?.bootstrap as string;
});

const describeGroup = (groupId: string) => describeGroupAt(server.url, groupId);
const coordinatorStable = (groupId: string, members: number) =>
  coordinatorStableAt(server.url, groupId, members);

afterAll(async () => {
  await server?.close();
});

async function produce(topic: string, prefix: string, count: number): Promise<string[]> {
  const kafka = new Kafka({ brokers: [bootstrap], logLevel: logLevel.NOTHING });
  const producer = kafka.producer();
  await producer.connect();
  const values = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
  await producer.send({ topic, messages: values.map((value) => ({ key: value, value })) });
  await producer.disconnect();
  return values;
}

/** A KafkaJS consumer as its own client (KafkaJS shares committed offsets between consumers of one Kafka instance). */
function memberOf(
  groupId: string,
  topic: string,
  name: string,
  seen: Map<string, { by: string; partition: number }[]>,
): Promise<KafkaJsMember> {
  const kafka = new Kafka({ brokers: [bootstrap], clientId: name, logLevel: logLevel.NOTHING });
  return kafkajsMember(kafka, {
    groupId,
    topic,
    name,
    sessionTimeoutMs: SESSION_MS,
    onMessage: ({ partition, value }) =>
      seen.set(value, [...(seen.get(value) ?? []), { by: name, partition }]),
  });
}

describe("a KafkaJS consumer group (classic protocol)", () => {
  const topic = "kjs-six";
  const groupId = "kjs-group";
  const seen = new Map<string, { by: string; partition: number }[]>();
  let members: KafkaJsMember[] = [];

  beforeAll(async () => {
    await createTopic(server, topic, 6);
    for (const name of ["kjs-a", "kjs-b", "kjs-c"]) members.push(await memberOf(groupId, topic, name, seen));
  });

  afterAll(async () => {
    for (const m of members) await m.consumer.disconnect();
  });

  it("splits six partitions across three members and delivers every record once", async () => {
    await eventually(
      "the three members split the partitions",
      async () =>
        splitsExactly(
          members.map((m) => m.assigned),
          6,
        ) && (await coordinatorStable(groupId, 3)),
    );
    expect(members.map((m) => m.assigned.length)).toEqual([2, 2, 2]);
    await fetchedTwiceSince(() => members.map((m) => m.fetches));
    const values = await produce(topic, "first", 60);
    await eventually("every record is consumed", () => values.every((v) => seen.has(v)));
    expectEachOnceBy(values, seen, members);
    // The classic generation the clients hold is each member's epoch at the coordinator.
    const group = (await describeGroup(groupId)) as GroupDescription;
    expect(group.members.map((m) => m.clientId).sort()).toEqual(["kjs-a", "kjs-b", "kjs-c"]);
  });

  it("moves a leaving member's partitions to the others, then delivers every record once again", async () => {
    const [leaver, ...stay] = members;
    await leaver.consumer.disconnect();
    members = stay;
    await eventually(
      "the two remaining members take over the leaver's partitions",
      async () =>
        splitsExactly(
          stay.map((m) => m.assigned),
          6,
        ) && (await coordinatorStable(groupId, 2)),
    );
    for (const p of leaver.assigned) expect(stay.some((m) => m.assigned.includes(p))).toBe(true);
    await fetchedTwiceSince(() => stay.map((m) => m.fetches));
    const values = await produce(topic, "second", 60);
    await eventually("every record is consumed", () => values.every((v) => seen.has(v)));
    expectEachOnceBy(values, seen, stay);
  });
});

describe("a KafkaJS consumer restarted", () => {
  it("resumes from its committed offsets, delivering nothing twice", async () => {
    const topic = "kjs-resume";
    const groupId = "kjs-resume-group";
    await createTopic(server, topic, 2);
    const seen = new Map<string, { by: string; partition: number }[]>();
    const first = await produce(topic, "before", 20);
    const one = await memberOf(groupId, topic, "first-run", seen);
    await eventually("the first run consumes everything", () => first.every((v) => seen.has(v)));
    const admin = new Kafka({ brokers: [bootstrap], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await eventually("the first run's offsets are committed", async () => {
      const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
      return offsets[0].partitions.reduce((n, p) => n + Number(p.offset), 0) === 20;
    });
    await one.consumer.disconnect();
    const second = await produce(topic, "after", 20);
    const two = await memberOf(groupId, topic, "second-run", seen);
    await eventually("the second run consumes the new records", () => second.every((v) => seen.has(v)));
    await two.consumer.disconnect();
    await admin.disconnect();
    for (const v of first) expect(seen.get(v)?.map((d) => d.by)).toEqual(["first-run"]);
    for (const v of second) expect(seen.get(v)?.map((d) => d.by)).toEqual(["second-run"]);
  });
});

describe("a @platformatic/kafka consumer group", () => {
  for (const groupProtocol of ["classic", "consumer"] as const) {
    it(`splits partitions, delivers every record once and rebalances on leave (group.protocol=${groupProtocol})`, async () => {
      const topic = `plt-${groupProtocol}`;
      const groupId = `plt-group-${groupProtocol}`;
      await createTopic(server, topic, 6);
      const seen = new Map<string, { by: string; partition: number }[]>();
      const consumers = ["p1", "p2", "p3"].map(
        (clientId) =>
          new Consumer({
            groupId,
            clientId,
            bootstrapBrokers: [bootstrap],
            deserializers: stringDeserializers,
            groupProtocol,
            sessionTimeout: SESSION_MS,
            rebalanceTimeout: SESSION_MS,
            heartbeatInterval: 200,
            maxWaitTime: 200,
          }),
      );
      const assigned = (c: Consumer<string, string, string, string>) =>
        (c.assignments ?? []).flatMap((a) => (a.topic === topic ? a.partitions : [])).sort();
      const named = () => consumers.map((c) => ({ name: c.clientId, assigned: assigned(c) }));
      const fetches = new Map<string, number>();
      const fetchCounts = () => consumers.map((c) => fetches.get(c.clientId) ?? 0);
      try {
        for (const c of consumers) {
          const stream = await call<Awaited<ReturnType<typeof c.consume>>>((cb) =>
            c.consume({ topics: [topic], mode: "earliest", autocommit: true }, cb),
          );
          stream.on("fetch", () => fetches.set(c.clientId, (fetches.get(c.clientId) ?? 0) + 1));
          stream.on("data", (m: Message<string, string, string, string>) => {
            seen.set(m.value, [...(seen.get(m.value) ?? []), { by: c.clientId, partition: m.partition }]);
          });
        }
        await eventually(
          "the three members split the partitions",
          async () => splitsExactly(consumers.map(assigned), 6) && (await coordinatorStable(groupId, 3)),
        );
        await fetchedTwiceSince(fetchCounts);
        const values = await produce(topic, "first", 60);
        await eventually("every record is consumed", () => values.every((v) => seen.has(v)));
        expectEachOnceBy(values, seen, named());

        const leaver = consumers.shift() as Consumer<string, string, string, string>;
        await call((cb) => leaver.close(true, cb));
        await eventually(
          "the two remaining members take over the leaver's partitions",
          async () => splitsExactly(consumers.map(assigned), 6) && (await coordinatorStable(groupId, 2)),
        );
        await fetchedTwiceSince(fetchCounts);
        const more = await produce(topic, "second", 60);
        await eventually("every record is consumed", () => more.every((v) => seen.has(v)));
        expectEachOnceBy(more, seen, named());
      } finally {
        for (const c of consumers) await call((cb) => c.close(true, cb));
      }
    });
  }
});

/** A kcat (librdkafka) balanced consumer: `-G`, the classic protocol with librdkafka's own client. */
interface KcatMember {
  process: ChildProcess;
  lines: string[];
}

function kcatMember(groupId: string, topic: string): KcatMember {
  // .ci/run installs kcat. Unbuffered, one "partition value" line per record.
  const child = spawn(
    "kcat",
    ["-b", bootstrap, "-G", groupId, "-X", "auto.offset.reset=earliest", "-u", "-q", "-f", "%p %s\\n", topic],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const member: KcatMember = { process: child, lines: [] };
  let pending = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    const parts = (pending + chunk.toString()).split("\n");
    pending = parts.pop() ?? "";
    member.lines.push(...parts);
  });
  return member;
}

async function stop(member: KcatMember): Promise<void> {
  if (member.process.exitCode !== null) return;
  const exited = new Promise((resolve) => member.process.once("exit", resolve));
  // SIGTERM: kcat closes its consumer, which leaves the group.
  member.process.kill("SIGTERM");
  await exited;
}

describe("kcat balanced consumers (librdkafka, classic protocol)", () => {
  it("split the partitions and deliver every record once", async () => {
    const topic = "kcat-group";
    const groupId = "kcat-group";
    await createTopic(server, topic, 4);
    const members = [kcatMember(groupId, topic), kcatMember(groupId, topic)];
    try {
      await eventually("both kcat members settle", () => coordinatorStable(groupId, 2));
      const values = await produce(topic, "kcat", 40);
      const delivered = () => members.flatMap((m) => m.lines.map((l) => l.split(" ")[1]));
      await eventually("every record is consumed", () => values.every((v) => delivered().includes(v)));
      expect([...delivered()].sort()).toEqual([...values].sort());
      // Each member consumed its own partitions, and none of the other's.
      const partitionsOf = (m: KcatMember) => new Set(m.lines.map((l) => l.split(" ")[0]));
      const [a, b] = members.map(partitionsOf);
      expect(a.size).toBe(2);
      expect(b.size).toBe(2);
      for (const p of a) expect(b.has(p)).toBe(false);
    } finally {
      for (const m of members) await stop(m);
    }
    await eventually("both members left", async () => (await describeGroup(groupId))?.members.length === 0);
  });
});

describe("the group APIs on the wire", () => {
  let connection: Connection;

  beforeAll(async () => {
    connection = new Connection("group-membership-raw");
    await call((cb) => connection.connect(server.kafka?.host as string, server.kafka?.port as number, cb));
  });

  afterAll(async () => {
    await call((cb) => connection.close(cb));
  });

  it("advertises FindCoordinator 0-6, JoinGroup 2-9, SyncGroup 0-5, Heartbeat 0-4, LeaveGroup 0-5, ConsumerGroupHeartbeat 0-1", async () => {
    const versions = (await apiVersionsV3.api.async(connection, "test", "1")) as {
      apiKeys: { apiKey: number; minVersion: number; maxVersion: number }[];
    };
    const range = (key: number) => {
      const found = versions.apiKeys.find((k) => k.apiKey === key);
      return found && [found.minVersion, found.maxVersion];
    };
    expect(range(10)).toEqual([0, 6]);
    expect(range(11)).toEqual([2, 9]);
    expect(range(14)).toEqual([0, 5]);
    expect(range(12)).toEqual([0, 4]);
    expect(range(13)).toEqual([0, 5]);
    expect(range(68)).toEqual([0, 1]);
  });

  it("finds this agent as the coordinator of every key asked at once (FindCoordinator v6)", async () => {
    const found = (await findCoordinatorV6.api.async(connection, 0, ["g1", "g2"])) as {
      coordinators: { key: string; nodeId: number; host: string; port: number; errorCode: number }[];
    };
    expect(found.coordinators).toEqual(
      ["g1", "g2"].map((key) => ({
        key,
        nodeId: 1,
        host: server.kafka?.host,
        port: server.kafka?.port,
        errorCode: 0,
        errorMessage: null,
      })),
    );
  });

  it("answers a ConsumerGroupHeartbeat with an unknown assignor UNSUPPORTED_ASSIGNOR, without joining", async () => {
    await createTopic(server, "raw-cgh", 1);
    const error = await consumerGroupHeartbeatV1.api
      .async(connection, "raw-group", "raw-member", 0, null, null, 30_000, ["raw-cgh"], null, "sticky", [])
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect((error as { response?: { errorCode: number } }).response?.errorCode).toBe(112);
    expect(await describeGroup("raw-group")).toBeUndefined();
  });
});
