import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type DevCliProcess,
  type E2eWorld,
  e2eWorld,
  removeWorld,
  runCli,
  STACK_FRAME,
  startDev,
} from "./cli-process.js";
import { FloeClientError } from "../../src/client/client-error.js";
import { Floe } from "../../src/client/floe.js";
import { WebhookTarget } from "../support/webhook-target.js";

/**
 * Push subscriptions as a user types them: the compiled `floe` CLI against a real `floe dev`
 * process on the embedded backend, delivering to a real Standard Webhooks endpoint served by this
 * test, which verifies each delivery with the secret `floe subscriptions create` printed.
 */
let world: E2eWorld;
let dev: DevCliProcess | undefined;
let target: WebhookTarget;
let hook: string;

const floe = (args: string[], input?: string) =>
  runCli(world.bin, args, { input, cwd: world.work, env: { FLOE_URL: world.url } });

/** The rows of a table, header first, split on column gaps. */
function table(stdout: Buffer | string): string[][] {
  return stdout
    .toString()
    .split("\n")
    .filter((line) => /\S/.test(line))
    .map((line) => line.trim().split(/\s{2,}/));
}

/** `name  value` lines as a map (only the lines with a single value column). */
function fields(stdout: Buffer | string): Map<string, string> {
  return new Map(
    table(stdout)
      .filter((r) => r.length === 2)
      .map(([k, v]) => [k, v]),
  );
}

/** Asks again until `done` holds: the dispatcher works in its own time; the test's timeout bounds the wait. */
async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

beforeAll(async () => {
  target = await WebhookTarget.start();
  hook = target.url;
  world = await e2eWorld("floe-e2e-subscriptions-");
  dev = await startDev(world, ["--no-kafka"]);
  expect((await floe(["topics", "create", "--topic", "orders", "--partitions", "2"])).code).toBe(0);
});

afterAll(async () => {
  await dev?.stop();
  await target?.close();
  removeWorld(world);
});

describe("floe subscriptions", () => {
  it("create prints the settings and, once, the signing secret the target verifies with", async () => {
    const result = await floe([
      "subscriptions",
      "create",
      "orders-hook",
      "--topic",
      "orders",
      "--http",
      hook,
      "--batch-size",
      "10",
      "--starting-position",
      "TRIM_HORIZON",
    ]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const out = result.stdout.toString();
    expect(out).toMatch(/^Created subscription orders-hook\.\n/);
    const settings = fields(out);
    expect(settings.get("groupId")).toBe("floe-subscription-orders-hook");
    expect(settings.get("topics")).toBe("orders");
    expect(settings.get("target")).toBe(`http ${hook}`);
    expect(settings.get("batchSize")).toBe("10");
    expect(settings.get("maximumBatchingWindowMs")).toBe("500");
    expect(settings.get("startingPosition")).toBe("TRIM_HORIZON");
    const secret = /\nSigning secret: (whsec_[A-Za-z0-9+/]+=*)\n/.exec(out)?.[1];
    expect(secret).toBeDefined();
    expect(out.match(/verifies/g)).toHaveLength(1);
    target.verifyWith(secret ?? "");
    // describe shows it again, with the settings (a CDK-made subscription's secret is read there).
    expect(fields((await floe(["subscriptions", "describe", "orders-hook"])).stdout).get("secret")).toBe(
      secret,
    );
  });

  it("list shows it as a table", async () => {
    const result = await floe(["subscriptions", "list"]);
    expect(result.code).toBe(0);
    expect(table(result.stdout)).toEqual([
      ["NAME", "STATE", "TOPICS", "TARGET", "GROUP"],
      ["orders-hook", "Enabled", "orders", hook, "floe-subscription-orders-hook"],
    ]);
  });

  it("delivers what is produced; describe counts it, per partition too, and its group has no lag", async () => {
    const lines = Array.from({ length: 6 }, (_, i) => `k${i}:order-${i}`);
    const produced = await floe(
      ["produce", "--topic", "orders", "--key-separator", ":"],
      `${lines.join("\n")}\n`,
    );
    expect(produced.code).toBe(0);
    const described = await eventually(
      () => floe(["subscriptions", "describe", "orders-hook", "--json"]),
      (r) => r.code === 0 && JSON.parse(r.stdout.toString()).status.delivered === lines.length,
    );
    const answer = JSON.parse(described.stdout.toString());
    expect(answer.name).toBe("orders-hook");
    expect(answer.status).toMatchObject({ delivered: 6, failed: 0, lag: 0, lastError: null });
    const values = target.accepted().map((r) => r.value);
    expect([...values].sort()).toEqual(lines.map((l) => l.split(":")[1]).sort());
    // Signed with the secret create printed, as checked by the standardwebhooks package.
    expect(target.deliveries.length).toBeGreaterThan(0);
    expect(target.unverified()).toEqual([]);

    const text = await floe(["subscriptions", "describe", "orders-hook"]);
    expect(text.code).toBe(0);
    const out = text.stdout.toString();
    expect(fields(out).get("delivered")).toBe("6");
    expect(fields(out).get("lag")).toBe("0");
    const rows = table(out);
    const header = rows.findIndex((r) => r[0] === "TOPIC");
    expect(rows[header]).toEqual([
      "TOPIC",
      "PARTITION",
      "COMMITTED",
      "HIGH-WATERMARK",
      "LAG",
      "DELIVERED",
      "FAILED",
    ]);
    const partitions = rows.slice(header + 1);
    expect(partitions.map((r) => r.slice(0, 2))).toEqual([
      ["orders", "0"],
      ["orders", "1"],
    ]);
    expect(partitions.reduce((n, r) => n + Number(r[5]), 0)).toBe(6);
    for (const r of partitions) expect(r[2]).toBe(r[3]);

    const group = await floe(["groups", "describe", "--group", "floe-subscription-orders-hook"]);
    expect(group.code).toBe(0);
    const groupRows = table(group.stdout).filter((r) => r[0] === "floe-subscription-orders-hook");
    expect(groupRows.map((r) => r[5])).toEqual(["0", "0"]);
  });

  it("pause and resume change its state", async () => {
    const paused = await floe(["subscriptions", "pause", "orders-hook"]);
    expect(paused.code).toBe(0);
    expect(paused.stdout.toString()).toBe("Paused subscription orders-hook.\n");
    expect(table((await floe(["subscriptions", "list"])).stdout)[1][1]).toBe("Disabled");
    const resumed = await floe(["subscriptions", "resume", "orders-hook"]);
    expect(resumed.code).toBe(0);
    expect(resumed.stdout.toString()).toBe("Resumed subscription orders-hook.\n");
    expect(table((await floe(["subscriptions", "list"])).stdout)[1][1]).toBe("Enabled");
  });

  it("a refusal is one line with Kafka's code, exit 1, and changes nothing", async () => {
    const duplicate = await floe([
      "subscriptions",
      "create",
      "orders-hook",
      "--topic",
      "orders",
      "--http",
      hook,
    ]);
    expect(duplicate.code).toBe(1);
    expect(duplicate.stderr).toMatch(/^floe subscriptions create: DUPLICATE_RESOURCE: .*orders-hook.*\n$/);

    // A finite retry count with nowhere to put the records that run out would drop them.
    const unsafe = await floe([
      "subscriptions",
      "create",
      "lossy",
      "--topic",
      "orders",
      "--http",
      hook,
      "--maximum-retry-attempts",
      "3",
    ]);
    expect(unsafe.code).toBe(1);
    expect(unsafe.stderr).toMatch(/^floe subscriptions create: INVALID_CONFIG: .*\n$/);
    expect(unsafe.stderr).not.toMatch(STACK_FRAME);

    const unknown = await floe(["subscriptions", "describe", "nope"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^floe subscriptions describe: RESOURCE_NOT_FOUND: .*nope.*\n$/);

    expect(table((await floe(["subscriptions", "list"])).stdout).map((r) => r[0])).toEqual([
      "NAME",
      "orders-hook",
    ]);
  });

  it("a paused Lambda subscription over a topic regex is listed with its function", async () => {
    const result = await floe([
      "subscriptions",
      "create",
      "audit",
      "--topic-regex",
      "ord.*",
      "--lambda",
      "audit-fn",
      "--paused",
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toMatch(/^Created subscription audit \(paused\)\.\n/);
    expect(result.stdout.toString()).not.toContain("Signing secret");
    expect(table((await floe(["subscriptions", "list"])).stdout)[1]).toEqual([
      "audit",
      "Disabled",
      "/ord.*/",
      "lambda:audit-fn",
      "floe-subscription-audit",
    ]);
  });

  it("the client's updateSubscription changes settings, with the version as a precondition", async () => {
    const admin = new Floe({ url: world.url }).admin();
    const before = await admin.describeSubscription("orders-hook");
    const changed = await admin.updateSubscription(
      "orders-hook",
      { batchSize: 50 },
      { version: before.version },
    );
    expect(changed.batchSize).toBe(50);
    expect(changed.version).toBeGreaterThan(before.version);
    const stale = await admin
      .updateSubscription("orders-hook", { batchSize: 7 }, { version: before.version })
      .catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(FloeClientError);
    expect((stale as FloeClientError).code).toBe("INVALID_UPDATE_VERSION");
    expect(fields((await floe(["subscriptions", "describe", "orders-hook"])).stdout).get("batchSize")).toBe(
      "50",
    );
  });

  it("delete removes the subscription and its group", async () => {
    for (const name of ["audit", "orders-hook"]) {
      const deleted = await floe(["subscriptions", "delete", name]);
      expect(deleted.code).toBe(0);
      expect(deleted.stdout.toString()).toMatch(
        new RegExp(`^(Deleted subscription ${name}\\.|Deleting subscription ${name}: .*)\\n$`),
      );
    }
    const gone = await eventually(
      () => floe(["subscriptions", "describe", "orders-hook"]),
      (r) => r.code === 1,
    );
    expect(gone.stderr).toMatch(/^floe subscriptions describe: RESOURCE_NOT_FOUND: /);
    expect((await floe(["subscriptions", "list"])).stdout.toString()).toBe("");
    expect((await floe(["groups", "list"])).stdout.toString()).not.toContain("floe-subscription-");
  });
});
