import { crc32 } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Floe } from "../../src/client/floe.js";
import { awsCall } from "./aws.js";
import { deployedStack, functionNamed, STACK_NAME } from "./stack.js";

/**
 * A push subscription on the deployed stack (issue 14): a subscription made through the deployed
 * API delivers to a Lambda function created in LocalStack, the stack's dispatcher function woken
 * by the metadata table's real DynamoDB stream and its head-only filter. The dispatcher's schedule
 * rule loses its target for the test, so only the stream can have woken it. (Disabling the rule is
 * not enough here: LocalStack 4.14's DisableRule marks the rule, but its scheduler's job keeps
 * firing once a minute, so a run it woke during the test could deliver some of the records. A rule
 * without targets sends nothing, there as in AWS.) FloeSubscription is not deployed
 * here: LocalStack's community edition has no custom resources (it "deploys" Custom::* types as
 * no-ops), so its handler is tested against the emulators instead
 * (test/integration/functions/subscription-resource.test.ts).
 */
const stack = deployedStack();
const floe = new Floe({ url: stack.apiUrl });
const BOUND_MS = 150_000;
const run = Date.now().toString(36);
const source = `sub-src-${run}`;
const received = `sub-received-${run}`;
const targetName = `floe-sub-target-${run}`;

/**
 * The target: the MSK-shaped event's records, each produced (with where it came from) into the
 * `received` topic through the deployed API, so the test reads what the function was given.
 */
const TARGET_CODE = `
export const handler = async (event) => {
  const records = Object.values(event.records).flat().map((r) => ({
    value: { topic: r.topic, partition: r.partition, offset: r.offset, value: Buffer.from(r.value, "base64").toString() },
  }));
  const res = await fetch(process.env.FLOE_API + "/v1/topics/" + process.env.RECEIVED_TOPIC + "/records", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ records }),
  });
  if (!res.ok) throw new Error("produce answered " + res.status + ": " + (await res.text()));
  return { batchItemFailures: [] };
};
`;

/** A zip archive of the given files, stored uncompressed: all a Lambda deployment package needs. */
function zip(files: Record<string, string>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, text] of Object.entries(files)) {
    const data = Buffer.from(text);
    const fileName = Buffer.from(name);
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(fileName.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(0x031e, 4); // made by Unix, 3.0
    central.writeUInt16LE(20, 6);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(fileName.length, 28);
    central.writeUInt32LE((0o100644 << 16) >>> 0, 38); // a regular file, rw-r--r--
    central.writeUInt32LE(offset, 42);
    locals.push(local, fileName, data);
    centrals.push(central, fileName);
    offset += local.length + fileName.length + data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Object.keys(files).length, 8);
  end.writeUInt16LE(Object.keys(files).length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

async function lambdaApi(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const r = await awsCall("lambda", method, path, body === undefined ? undefined : JSON.stringify(body), {
    "content-type": "application/json",
  });
  if (r.status >= 300) throw new Error(`Lambda ${method} ${path}: HTTP ${r.status} ${r.text.slice(0, 500)}`);
  return r.text ? (JSON.parse(r.text) as Record<string, unknown>) : {};
}

/** EventBridge through its JSON protocol. */
async function events(action: string, input: unknown): Promise<Record<string, unknown>> {
  const r = await awsCall("events", "POST", "/", JSON.stringify(input), {
    "content-type": "application/x-amz-json-1.1",
    "x-amz-target": `AWSEvents.${action}`,
  });
  if (r.status >= 300) throw new Error(`EventBridge ${action}: HTTP ${r.status} ${r.text.slice(0, 500)}`);
  return r.text ? (JSON.parse(r.text) as Record<string, unknown>) : {};
}

async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  const giveUp = Date.now() + BOUND_MS;
  while (!(await condition())) {
    if (Date.now() > giveUp) throw new Error(`gave up waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

interface Received {
  topic: string;
  partition: number;
  offset: number;
  value: string;
}

async function receivedRecords(): Promise<Received[]> {
  const out: Received[] = [];
  let offset = 0;
  for (;;) {
    const page = await floe.reader().fetch({ topic: received, partition: 0, offset });
    for (const r of page.records) out.push(JSON.parse(r.value!.toString()) as Received);
    if (page.nextOffset >= page.highWatermark || page.records.length === 0) return out;
    offset = page.nextOffset;
  }
}

interface DispatchRun {
  trigger: { source: "stream" | "schedule"; heads?: number; other?: number };
  report: { delivered: number };
}

/** The dispatcher's "dispatch run" log lines (functions/dispatcher.ts) since `since`, from CloudWatch Logs. */
async function dispatchRuns(since: number): Promise<DispatchRun[]> {
  const r = await awsCall(
    "logs",
    "POST",
    "/",
    JSON.stringify({ logGroupName: `/aws/lambda/${functionNamed(stack, "Dispatcher")}`, startTime: since }),
    { "content-type": "application/x-amz-json-1.1", "x-amz-target": "Logs_20140328.FilterLogEvents" },
  );
  if (r.status >= 300) throw new Error(`FilterLogEvents: HTTP ${r.status} ${r.text.slice(0, 500)}`);
  const events = (JSON.parse(r.text) as { events?: { message: string }[] }).events ?? [];
  return events
    .filter((e) => e.message.includes('"dispatch run"'))
    .map((e) => JSON.parse(e.message.slice(e.message.indexOf("{"))) as DispatchRun);
}

describe("a push subscription on the deployed stack", () => {
  let scheduleRule: string | undefined;
  let scheduleTargets: unknown[] = [];

  beforeAll(async () => {
    // Only the stream may wake the dispatcher during the test: the schedule's targets are taken off.
    const rules = (await events("ListRules", { NamePrefix: STACK_NAME })) as { Rules?: { Name: string }[] };
    scheduleRule = rules.Rules?.find((r) => r.Name.includes("DispatchSchedule"))?.Name;
    if (!scheduleRule) throw new Error(`no DispatchSchedule rule among ${JSON.stringify(rules.Rules)}`);
    const targets = (await events("ListTargetsByRule", { Rule: scheduleRule })) as {
      Targets?: { Id: string }[];
    };
    scheduleTargets = targets.Targets ?? [];
    if (scheduleTargets.length === 0) throw new Error(`the rule ${scheduleRule} has no target to take off`);
    await events("RemoveTargets", { Rule: scheduleRule, Ids: targets.Targets!.map((t) => t.Id) });

    await floe.admin().createTopic({ topic: source, numPartitions: 2 });
    await floe.admin().createTopic({ topic: received, numPartitions: 1 });
    await lambdaApi("POST", "/2015-03-31/functions", {
      FunctionName: targetName,
      Runtime: "nodejs22.x",
      Role: "arn:aws:iam::000000000000:role/floe-subscription-target",
      Handler: "index.handler",
      Code: { ZipFile: zip({ "index.mjs": TARGET_CODE }).toString("base64") },
      Timeout: 30,
      Environment: { Variables: { FLOE_API: stack.apiUrl, RECEIVED_TOPIC: received } },
    });
    await until(async () => {
      const fn = await lambdaApi("GET", `/2015-03-31/functions/${targetName}`);
      return (fn.Configuration as { State?: string }).State === "Active";
    }, "the target function is active");
  });

  afterAll(async () => {
    if (scheduleRule && scheduleTargets.length > 0) {
      await events("PutTargets", { Rule: scheduleRule, Targets: scheduleTargets }).catch(() => {});
    }
    await lambdaApi("DELETE", `/2015-03-31/functions/${targetName}`).catch(() => {});
  });

  it("the dispatcher, woken by the table's stream, invokes the target with every record once, in order", async () => {
    const started = Date.now();
    await floe.admin().createSubscription(`to-lambda-${run}`, {
      topics: [source],
      target: { type: "lambda", functionName: targetName },
      batchSize: 25,
      maximumBatchingWindowMs: 0,
    });
    const perPartition = 30;
    for (const partition of [0, 1]) {
      await floe.producer().send({
        topic: source,
        messages: Array.from({ length: perPartition }, (_, i) => ({
          value: `p${partition}-${i}`,
          partition,
        })),
      });
    }
    let got: Received[] = [];
    await until(async () => {
      got = await receivedRecords();
      return got.length >= 2 * perPartition;
    }, "the target received every record");

    for (const partition of [0, 1]) {
      const mine = got.filter((r) => r.partition === partition);
      expect(mine.map((r) => r.offset)).toEqual(Array.from({ length: perPartition }, (_, i) => i));
      expect(mine.map((r) => r.value)).toEqual(
        Array.from({ length: perPartition }, (_, i) => `p${partition}-${i}`),
      );
      expect(mine.every((r) => r.topic === source)).toBe(true);
    }
    expect(got).toHaveLength(2 * perPartition);

    // The dispatcher commits a batch once its invocation returns, after the target has produced; a
    // partition's counts are written after its last commit (when its loop ends, or within a second).
    let status: Awaited<ReturnType<ReturnType<typeof floe.admin>["describeSubscription"]>>["status"];
    await until(async () => {
      status = (await floe.admin().describeSubscription(`to-lambda-${run}`)).status;
      return status.lag === 0 && status.delivered >= 2 * perPartition;
    }, "the subscription's group has committed everything and its counts are written");
    expect(status!).toMatchObject({ delivered: 2 * perPartition, failed: 0, lag: 0 });

    // The runs that delivered were woken by the stream, which passed partition heads and nothing else.
    let runs: DispatchRun[] = [];
    await until(async () => {
      runs = await dispatchRuns(started);
      return runs.some((r) => r.report.delivered > 0);
    }, "the delivering runs have logged (once each returns)");
    const delivering = runs.filter((r) => r.report.delivered > 0);
    expect(delivering.every((r) => r.trigger.source === "stream")).toBe(true);
    for (const r of runs.filter((r) => r.trigger.source === "stream")) {
      expect(r.trigger.other).toBe(0);
      expect(r.trigger.heads).toBeGreaterThan(0);
    }
  });
});
