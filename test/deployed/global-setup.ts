/**
 * Vitest globalSetup of the deployed tier: LocalStack 4.14 installed (cached) and started on
 * 127.0.0.1:4566 by scripts/localstack.sh, then the real stack (cdk/app.ts, REST front door)
 * bootstrapped and deployed with cdklocal, its outputs provided to the test files
 * (test/deployed/stack.ts). Teardown destroys the stack and stops LocalStack by its PID; a setup
 * that fails part-way runs the same teardown before it throws.
 *
 * FLOE_DEPLOYED_OUTPUTS=<file> skips all of that and tests a stack already deployed to a running
 * LocalStack (the file `cdklocal deploy --outputs-file` wrote), leaving both as they are.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { TestProject } from "vitest/node";
import { functionNames, LOCALSTACK, localstackEnv, REGION } from "./aws.js";
import { type DeployedStack, STACK_NAME, stackFromOutputs } from "./stack.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

function run(cmd: string, args: string[], env: Record<string, string> = {}): Promise<void> {
  const started = Date.now();
  console.log(`deployed tier: ${cmd} ${args.join(" ")}`);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ["ignore", "inherit", "inherit"],
    });
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      console.log(`deployed tier: ${cmd} ${args[0]} done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      if (code === 0) resolve();
      else reject(new Error(`${cmd} ${args.join(" ")} exited ${code ?? signal}`));
    });
  });
}

const localstack = (command: string) => run("bash", [path.join(ROOT, "scripts/localstack.sh"), command]);
const cdklocal = (args: string[], out: string) =>
  run(path.join(ROOT, "node_modules/.bin/cdklocal"), [...args, "--output", out], localstackEnv());

/** The stack the test files get: the outputs cdklocal wrote, its Lambda functions, and where LocalStack is. */
async function readStack(outputsFile: string): Promise<DeployedStack> {
  const outputs = JSON.parse(await readFile(outputsFile, "utf8"))[STACK_NAME] as Record<string, string>;
  return {
    ...stackFromOutputs(outputs),
    functions: (await functionNames()).filter((n) => n.startsWith(`${STACK_NAME}-`)),
    endpoint: LOCALSTACK,
    region: REGION,
  };
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now();
  const reuse = process.env.FLOE_DEPLOYED_OUTPUTS;
  if (reuse) {
    project.provide("floeDeployed", await readStack(reuse));
    return async () => {};
  }
  const out = await mkdtemp(path.join(tmpdir(), "floe-deployed-cdk-"));
  let deployed = false;
  const context = ["-c", `stackName=${STACK_NAME}`, "-c", "frontDoor=rest", "-c", "removalPolicy=destroy"];
  const teardown = async () => {
    try {
      if (deployed) await cdklocal(["destroy", "--force", ...context], out);
    } catch (e) {
      console.error("deployed tier: destroy failed:", e);
    } finally {
      await localstack("stop").catch((e) => console.error("deployed tier: stop failed:", e));
      await rm(out, { recursive: true, force: true });
      console.log(`deployed tier: ${((Date.now() - started) / 1000).toFixed(0)} s in all`);
    }
  };
  try {
    await localstack("install");
    await localstack("start");
    // The environment named, so bootstrap does not synthesise (and bundle) the app a second time.
    await cdklocal(["bootstrap", "--quiet", `aws://000000000000/${REGION}`], out);
    deployed = true;
    const outputsFile = path.join(out, "outputs.json");
    await cdklocal(
      [
        "deploy",
        ...context,
        "--require-approval",
        "never",
        "--progress",
        "events",
        "--outputs-file",
        outputsFile,
      ],
      out,
    );
    const stack = await readStack(outputsFile);
    console.log(
      `deployed tier: stack up after ${((Date.now() - started) / 1000).toFixed(0)} s: ${stack.apiUrl}`,
    );
    project.provide("floeDeployed", stack);
  } catch (e) {
    await teardown();
    throw e;
  }
  return teardown;
}
