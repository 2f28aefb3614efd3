/**
 * `floe agent`, as an operator runs it: two agent processes side by side over one bucket and table
 * (s3rver and DynamoDB Local, started by the test setup), each serving the Kafka protocol and the
 * HTTP API. Agents hold no state: what one does, the other sees, and each tells Kafka clients that it
 * leads every partition of the same cluster.
 */
import { randomUUID } from "node:crypto";
import path from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CliProcess, kafkaAddressOf, REPO } from "../../e2e/cli-process.js";
import { emulatorEndpoints, emulatorEnv } from "../../support/emulators.js";
import { kcat } from "../../support/kcat.js";

interface Agent {
  process: CliProcess;
  url: string;
  /** Where a Kafka client bootstraps. */
  bootstrap: string;
  /** The host this agent tells Kafka clients to connect to. */
  advertised: string;
  kafkaPort: number;
}

const emulators = emulatorEndpoints();
const bucket = `floe-agents-${randomUUID().slice(0, 8)}`;
const table = `floe-agents-${randomUUID().slice(0, 8)}`;
const agents: Agent[] = [];

/**
 * `floe agent` from source, on free ports, once it says it is ready. With `advertise`, its Kafka
 * listener binds every address and tells clients to use that one (a loopback address other than the
 * bootstrap's, so a client that reaches the agent at all has followed the advertised address).
 */
async function startAgent(advertise?: string): Promise<Agent> {
  const kafkaFlags = advertise ? ["--kafka-host", "0.0.0.0", "--advertised-host", advertise] : [];
  const child = new CliProcess(
    path.join(REPO, "src/cli/main.ts"),
    ["agent", "--port", "0", "--kafka-port", "0", ...kafkaFlags],
    {
      cwd: REPO,
      nodeArgs: ["--import", "tsx"],
      env: { ...emulatorEnv(), FLOE_BUCKET: bucket, FLOE_TABLE: table, POWERTOOLS_LOG_LEVEL: "ERROR" },
    },
  );
  await child.waitForOutput((out) => out.includes("Press Ctrl-C to stop."), "the agent was ready");
  const banner = child.stdout.toString("utf8");
  const url = /^Floe agent listening on (http:\/\/\S+)$/m.exec(banner)?.[1];
  const kafka = kafkaAddressOf(banner);
  if (!url || !kafka) throw new Error(`the agent's banner names no HTTP API or Kafka listener:\n${banner}`);
  if (advertise) {
    expect(banner).toContain(`  advertised to Kafka clients as ${advertise}:${kafka.port}\n`);
    expect(banner).toContain(`--bootstrap-server ${advertise}:${kafka.port} --topic quickstart`);
  }
  return {
    process: child,
    url,
    bootstrap: `127.0.0.1:${kafka.port}`,
    advertised: advertise ?? "127.0.0.1",
    kafkaPort: kafka.port,
  };
}

function kafkaOf(agent: Agent): Kafka {
  return new Kafka({
    clientId: "agent-test",
    brokers: [agent.bootstrap],
    logLevel: logLevel.NOTHING,
    retry: { retries: 2 },
  });
}

interface KcatMetadata {
  originating_broker: { id: number; name: string };
  brokers: { id: number; name: string }[];
  topics: { topic: string; partitions: { partition: number; leader: number }[] }[];
}

describe.skipIf(!emulators)("floe agent: stateless agents side by side over one bucket and table", () => {
  beforeAll(async () => {
    // Started together, as an orchestrator starts replicas: both may find the table missing.
    agents.push(...(await Promise.all([startAgent(), startAgent("127.0.0.2")])));
  });

  afterAll(async () => {
    const results = await Promise.all(agents.map((a) => a.process.stop("SIGTERM")));
    // A clean stop, as Ctrl-C gives: in-flight requests answered, the group commit flushed.
    for (const result of results) expect(result.code).toBe(0);
  });

  it("a topic created through one agent's HTTP API is in both agents' Kafka metadata, each leading every partition", async () => {
    const [a, b] = agents;
    const topic = `orders-${randomUUID().slice(0, 8)}`;
    const created = await fetch(`${a.url}/v1/topics`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: topic, partitions: 3 }),
    });
    expect(created.status).toBe(201);

    for (const agent of [a, b]) {
      const admin = kafkaOf(agent).admin();
      await admin.connect();
      try {
        const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
        expect(topics).toHaveLength(1);
        expect(topics[0].partitions.map((p) => [p.partitionId, p.leader]).sort()).toEqual([
          [0, 1],
          [1, 1],
          [2, 1],
        ]);
        expect(await admin.listTopics()).toContain(topic);
        // The only broker is the agent asked: any agent serves any partition (architecture §12).
        const cluster = await admin.describeCluster();
        expect(cluster.brokers).toEqual([{ nodeId: 1, host: agent.advertised, port: agent.kafkaPort }]);
      } finally {
        await admin.disconnect();
      }
    }

    // And through the other agent's HTTP API.
    const described = await fetch(`${b.url}/v1/topics/${topic}`);
    expect(described.status).toBe(200);
  });

  it("both agents report one cluster id, derived from the bucket and table they share", async () => {
    const ids = await Promise.all(
      agents.map(async (agent) => {
        const admin = kafkaOf(agent).admin();
        await admin.connect();
        try {
          return (await admin.describeCluster()).clusterId;
        } finally {
          await admin.disconnect();
        }
      }),
    );
    expect(ids[0]).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(ids[1]).toBe(ids[0]);
  });

  it("kcat -L against either agent lists the same topics, that agent as their leader", async () => {
    const topic = `kcat-${randomUUID().slice(0, 8)}`;
    const created = await fetch(`${agents[1].url}/v1/topics`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: topic, partitions: 2 }),
    });
    expect(created.status).toBe(201);
    const seen: string[][] = [];
    for (const agent of agents) {
      const result = await kcat(["-b", agent.bootstrap, "-L", "-J", "-m", "10"]);
      expect(result.code, result.stderr).toBe(0);
      const metadata = JSON.parse(result.stdout) as KcatMetadata;
      expect(metadata.brokers).toEqual([{ id: 1, name: `${agent.advertised}:${agent.kafkaPort}` }]);
      const ours = metadata.topics.find((t) => t.topic === topic);
      expect(ours?.partitions.map((p) => [p.partition, p.leader])).toEqual([
        [0, 1],
        [1, 1],
      ]);
      seen.push(metadata.topics.map((t) => t.topic).sort());
    }
    expect(seen[1]).toEqual(seen[0]);
  });

  it("records produced through one agent's Kafka port are consumed through the other's (KafkaJS, then kcat)", async () => {
    const [a, b] = agents;
    const topic = `across-${randomUUID().slice(0, 8)}`;
    const admin = kafkaOf(a).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
    await admin.disconnect();

    const producer = kafkaOf(a).producer({ allowAutoTopicCreation: false });
    await producer.connect();
    const sent = Array.from({ length: 20 }, (_, i) => `k${i % 5}=v${i}`);
    await producer.send({
      topic,
      messages: sent.map((line) => ({ key: line.split("=")[0], value: line.split("=")[1] })),
    });
    await producer.disconnect();

    // kcat without a group: Metadata, ListOffsets and Fetch against the other agent, to the end.
    const read = await kcat([
      "-b",
      b.bootstrap,
      "-C",
      "-t",
      topic,
      "-o",
      "beginning",
      "-e",
      "-q",
      "-f",
      "%k=%s\\n",
    ]);
    expect(read.code, read.stderr).toBe(0);
    expect(read.stdout.split("\n").filter(Boolean).sort()).toEqual([...sent].sort());
  });

  it("records kcat produces through one agent are read back byte for byte over the other's HTTP API", async () => {
    const [a, b] = agents;
    const topic = `bytes-${randomUUID().slice(0, 8)}`;
    const created = await fetch(`${a.url}/v1/topics`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: topic, partitions: 1 }),
    });
    expect(created.status).toBe(201);
    const values = ["plain", "ünïcödé", "tab\there", '{"json":true}'];
    const produced = await kcat(["-b", b.bootstrap, "-P", "-t", topic, "-p", "0"], `${values.join("\n")}\n`);
    expect(produced.code, produced.stderr).toBe(0);
    const res = await fetch(`${a.url}/v1/topics/${topic}/partitions/0/records?offset=0&encoding=base64`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { records: { offset: number; value: string }[] };
    expect(body.records.map((r) => Buffer.from(r.value, "base64").toString("utf8"))).toEqual(values);
    expect(body.records.map((r) => r.offset)).toEqual([0, 1, 2, 3]);
  });

  it("one consumer group with a member on each agent: the partitions split between them, every record read once", async () => {
    const topic = `split-${randomUUID().slice(0, 8)}`;
    const groupId = `g-${randomUUID().slice(0, 8)}`;
    const admin = kafkaOf(agents[0]).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 4 }] });
    await admin.disconnect();

    // Each member talks to its own agent; the group is one group, kept in DynamoDB.
    const assigned: number[][] = [[], []];
    let split: () => void = () => {};
    const splitDone = new Promise<void>((resolve) => {
      split = resolve;
    });
    const received: { member: number; partition: number; value: string }[] = [];
    let allIn: () => void = () => {};
    const allDone = new Promise<void>((resolve) => {
      allIn = resolve;
    });
    const sent = Array.from({ length: 40 }, (_, i) => ({ key: `k${i}`, value: `v${i}` }));
    // KafkaJS heartbeats between fetches: short long-polls let the members see a rebalance sooner.
    const consumers = agents.map((agent) =>
      kafkaOf(agent).consumer({
        groupId,
        sessionTimeout: 10_000,
        heartbeatInterval: 500,
        maxWaitTimeInMs: 500,
      }),
    );
    try {
      for (const [member, consumer] of consumers.entries()) {
        consumer.on(consumer.events.GROUP_JOIN, (event) => {
          assigned[member] = [...(event.payload.memberAssignment[topic] ?? [])].sort();
          const all = [...assigned[0], ...assigned[1]].sort();
          if (assigned.every((a) => a.length > 0) && all.join() === "0,1,2,3") split();
        });
        await consumer.connect();
        await consumer.subscribe({ topic, fromBeginning: true });
        await consumer.run({
          eachMessage: async ({ partition, message }) => {
            received.push({ member, partition, value: String(message.value) });
            if (received.length >= sent.length) allIn();
          },
        });
      }
      // Produced once the two members share the partitions, so no later rebalance moves any.
      await splitDone;
      const producer = kafkaOf(agents[1]).producer({ allowAutoTopicCreation: false });
      await producer.connect();
      await producer.send({ topic, messages: sent });
      await producer.disconnect();
      await allDone;
    } finally {
      await Promise.all(consumers.map((c) => c.disconnect()));
    }
    expect(received.map((r) => r.value).sort()).toEqual(sent.map((m) => m.value).sort());
    for (const r of received) expect(assigned[r.member]).toContain(r.partition);
  });
});
