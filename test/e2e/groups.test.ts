import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildPackage, CliProcess, freePort, removeDir, runCli, STACK_FRAME } from "./cli-process.js";

/**
 * Consumer groups as a user types them: the compiled `floe` CLI against a real `floe dev` process
 * on the embedded backend, checked the way kafka-console-consumer and kafka-consumer-groups are.
 */
let pkg: string;
let bin: string;
let work: string;
let url: string;
let dev: CliProcess | undefined;

const floe = (args: string[], input?: string) =>
  runCli(bin, args, { input, cwd: work, env: { FLOE_URL: url } });

const LINES = Array.from({ length: 10 }, (_, i) => `k${i % 4}:order-${i}`);

/** The rows of a kafka-consumer-groups style table, header first, split on column gaps. */
function table(stdout: Buffer): string[][] {
  return stdout
    .toString()
    .split("\n")
    .filter((line) => /\S/.test(line) && !line.startsWith("Consumer group"))
    .map((line) => line.trim().split(/\s{2,}/));
}

/** CURRENT-OFFSET, LOG-END-OFFSET and LAG summed over the partitions of `floe groups describe`. */
function totals(stdout: Buffer): { current: number; end: number; lag: number } {
  const [header, ...rows] = table(stdout);
  const column = (name: string) => rows.reduce((n, r) => n + Number(r[header.indexOf(name)]), 0);
  return { current: column("CURRENT-OFFSET"), end: column("LOG-END-OFFSET"), lag: column("LAG") };
}

beforeAll(async () => {
  pkg = buildPackage();
  bin = path.join(pkg, "bin/floe.js");
  work = mkdtempSync(path.join(tmpdir(), "floe-e2e-groups-"));
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  dev = new CliProcess(
    bin,
    [
      "dev",
      "--port",
      String(port),
      "--kafka-port",
      "0",
      "--data-dir",
      "data",
      "--group-session-timeout-ms",
      "10000",
    ],
    { cwd: work },
  );
  await dev.waitForOutput((out) => out.includes("Press Ctrl-C to stop."), "the dev server was ready");
  expect((await floe(["topics", "create", "--topic", "orders", "--partitions", "3"])).code).toBe(0);
  const produced = await floe(
    ["produce", "--topic", "orders", "--key-separator", ":"],
    `${LINES.join("\n")}\n`,
  );
  expect(produced.code).toBe(0);
});

afterAll(async () => {
  await dev?.stop();
  removeDir(work);
  removeDir(pkg);
});

const values = LINES.map((l) => l.split(":")[1]);

describe("floe consume --group and floe groups", () => {
  const firstRun: string[] = [];

  it("consume --group prints, commits what it printed, and a second run continues after it", async () => {
    const first = await floe([
      "consume",
      "--topic",
      "orders",
      "--group",
      "billing",
      "--from-beginning",
      "--max-messages",
      "4",
    ]);
    expect(first.stderr).toBe("Processed a total of 4 messages\n");
    expect(first.code).toBe(0);
    firstRun.push(...first.stdout.toString().trimEnd().split("\n"));
    expect(firstRun).toHaveLength(4);

    const described = await floe(["groups", "describe", "--group", "billing"]);
    expect(described.code).toBe(0);
    expect(described.stdout.toString()).toContain("Consumer group 'billing' has no active members.");
    expect(table(described.stdout)[0]).toEqual([
      "GROUP",
      "TOPIC",
      "PARTITION",
      "CURRENT-OFFSET",
      "LOG-END-OFFSET",
      "LAG",
      "CONSUMER-ID",
      "CLIENT-ID",
    ]);
    expect(totals(described.stdout)).toEqual({ current: 4, end: 10, lag: 6 });

    // --from-beginning applies only where the group has committed nothing, as in Kafka.
    const second = await floe([
      "consume",
      "--topic",
      "orders",
      "--group",
      "billing",
      "--from-beginning",
      "--max-messages",
      "6",
    ]);
    expect(second.code).toBe(0);
    const secondRun = second.stdout.toString().trimEnd().split("\n");
    expect([...firstRun, ...secondRun].sort()).toEqual([...values].sort());
    expect(totals((await floe(["groups", "describe", "--group", "billing"])).stdout)).toEqual({
      current: 10,
      end: 10,
      lag: 0,
    });
  });

  it("lists groups, with their state on request", async () => {
    expect((await floe(["groups", "list"])).stdout.toString()).toBe("billing\n");
    expect(table((await floe(["groups", "list", "--state"])).stdout)).toEqual([
      ["GROUP", "STATE"],
      ["billing", "Empty"],
    ]);
  });

  it("reset-offsets prints a plan without --execute, applies it with; consuming then re-reads from the start", async () => {
    const plan = await floe([
      "groups",
      "reset-offsets",
      "--group",
      "billing",
      "--topic",
      "orders",
      "--to-earliest",
    ]);
    expect(plan.code).toBe(0);
    expect(plan.stderr).toBe("Dry run: nothing was changed. Add --execute to apply these offsets.\n");
    expect(table(plan.stdout)).toEqual([
      ["GROUP", "TOPIC", "PARTITION", "NEW-OFFSET"],
      ["billing", "orders", "0", "0"],
      ["billing", "orders", "1", "0"],
      ["billing", "orders", "2", "0"],
    ]);
    expect(totals((await floe(["groups", "describe", "--group", "billing"])).stdout).lag).toBe(0);

    const applied = await floe([
      "groups",
      "reset-offsets",
      "--group",
      "billing",
      "--topic",
      "orders",
      "--to-earliest",
      "--execute",
    ]);
    expect(applied.code).toBe(0);
    expect(applied.stderr).toBe("");
    expect(totals((await floe(["groups", "describe", "--group", "billing"])).stdout)).toEqual({
      current: 0,
      end: 10,
      lag: 10,
    });
    const reread = await floe(["consume", "--topic", "orders", "--group", "billing", "--max-messages", "10"]);
    expect(reread.code).toBe(0);
    expect(reread.stdout.toString().trimEnd().split("\n").sort()).toEqual([...values].sort());

    const shifted = await floe([
      "groups",
      "reset-offsets",
      "--group",
      "billing",
      "--topic",
      "orders:0",
      "--shift-by",
      "-1",
      "--execute",
    ]);
    expect(shifted.code).toBe(0);
    expect(
      table(shifted.stdout)
        .slice(1)
        .map((r) => r.slice(0, 3)),
    ).toEqual([["billing", "orders", "0"]]);
  });

  it("shows a running member, refuses to reset its group, and lets it leave on Ctrl-C", async () => {
    const member = new CliProcess(
      bin,
      ["consume", "--topic", "orders", "--group", "audit", "--from-beginning"],
      {
        cwd: work,
        env: { FLOE_URL: url },
      },
    );
    try {
      await member.waitForOutput(
        (out) => out.split("\n").length > LINES.length,
        "the member printed every record",
      );
      const members = await floe(["groups", "describe", "--group", "audit", "--members"]);
      const [header, row] = table(members.stdout);
      expect(header).toEqual(["GROUP", "CONSUMER-ID", "CLIENT-ID", "EPOCH", "#PARTITIONS", "ASSIGNMENT"]);
      expect(row[0]).toBe("audit");
      expect(row[2]).toBe("floe-console-consumer");
      expect(row[4]).toBe("3");
      const state = table((await floe(["groups", "describe", "--group", "audit", "--state"])).stdout);
      expect(state[1].slice(0, 2)).toEqual(["audit", "Stable"]);

      const refused = await floe([
        "groups",
        "reset-offsets",
        "--group",
        "audit",
        "--topic",
        "orders",
        "--to-latest",
        "--execute",
      ]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/^floe groups reset-offsets: NON_EMPTY_GROUP: .*active member/);
      expect(refused.stderr).not.toMatch(STACK_FRAME);

      const stopped = await member.stop("SIGINT");
      expect(stopped.code).toBe(0);
      expect(stopped.stderr).toBe(`Processed a total of ${LINES.length} messages\n`);
    } finally {
      await member.stop("SIGKILL");
    }
    const after = await floe(["groups", "describe", "--group", "audit"]);
    expect(after.stdout.toString()).toContain("has no active members");
    expect(totals(after.stdout).lag).toBe(0);
  });

  it("deletes a group; describing it then fails with Kafka's code", async () => {
    const deleted = await floe(["groups", "delete", "--group", "billing"]);
    expect(deleted.stdout.toString()).toBe(
      "Deletion of requested consumer groups ('billing') was successful.\n",
    );
    expect((await floe(["groups", "list"])).stdout.toString()).toBe("audit\n");
    const gone = await floe(["groups", "describe", "--group", "billing"]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toBe(
      "floe groups describe: GROUP_ID_NOT_FOUND: Consumer group 'billing' does not exist.\n",
    );
  });

  it.each([
    ["groups", "list"],
    ["groups", "describe"],
    ["groups", "reset-offsets"],
    ["groups", "delete"],
  ])("%s %s --help explains itself", async (...command) => {
    const result = await floe([...command, "--help"]);
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toMatch(new RegExp(`^Usage: floe ${command.join(" ")}`));
    expect(result.stdout.toString()).toContain("kafka-consumer-groups.sh");
  });
});
