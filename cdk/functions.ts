/**
 * The bus's Lambda functions: what each one is allowed to touch, how long it may run, and which
 * ones this app deploys. Every other part of the construct (routes, grants, alarms, dashboard,
 * outputs, the maintenance schedule) follows WIRED_FUNCTIONS.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Duration } from "aws-cdk-lib";

export type FloeFunctionName = "produce" | "fetch" | "admin" | "groups" | "maintenance" | "dispatcher";

/** S3 object actions, each on `segments/*` only (architecture §2: every segment key starts there). */
export type ObjectAccess = "get" | "put" | "delete";

export interface FunctionSpec {
  description: string;
  /** Lambda timeout. The front doors cut requests at 29–30 s, so API functions stay well below. */
  timeout: Duration;
  objects: readonly ObjectAccess[];
  /** s3:ListBucket on the bucket (the health probe, garbage collection). */
  listBucket: boolean;
  meta: "read" | "readwrite";
  /** Serves HTTP routes (false: invoked by the schedule only). */
  api: boolean;
}

export const FUNCTION_SPECS: Readonly<Record<FloeFunctionName, FunctionSpec>> = {
  produce: {
    description: "Floe produce: POST /v1/topics/{topic}/records",
    timeout: Duration.seconds(10),
    objects: ["put"],
    listBucket: false,
    meta: "readwrite",
    api: true,
  },
  fetch: {
    // Long polls wait at most 20 s (maxWaitMs cap): 25 s leaves room to answer before the front door's limit.
    description: "Floe fetch: record reads, multi-partition fetch, list offsets",
    timeout: Duration.seconds(25),
    objects: ["get"],
    listBucket: false,
    meta: "read",
    api: true,
  },
  admin: {
    description: "Floe admin: topics, health, OpenAPI document",
    timeout: Duration.seconds(10),
    // Get and List: the health probe lists segments/.
    objects: ["get"],
    listBucket: true,
    meta: "readwrite",
    api: true,
  },
  groups: {
    description: "Floe consumer groups: heartbeat, offsets, describe, reset",
    timeout: Duration.seconds(10),
    // Get: resetting offsets to a timestamp reads the segment chunk holding it (list offsets).
    objects: ["get"],
    listBucket: false,
    meta: "readwrite",
    api: true,
  },
  maintenance: {
    description: "Floe maintenance: compaction, retention, garbage collection",
    // Equal to the schedule's period: each run spends its remaining time on one slice, so a longer
    // timeout would only stack runs (safe under leases, but wasted).
    timeout: Duration.minutes(1),
    // The only function that may delete objects or list the bucket for unreferenced ones.
    objects: ["get", "put", "delete"],
    listBucket: true,
    meta: "readwrite",
    api: false,
  },
  dispatcher: {
    description: "Floe subscriptions: delivers topics to their targets (architecture §14)",
    // Woken by the table's stream and a one-minute schedule; each run delivers until caught up or
    // its remaining time runs out. Five minutes leaves a slow target (a Lambda target may take
    // minutes) room to answer while most runs end in seconds.
    timeout: Duration.minutes(5),
    // Get: reading the records it delivers. Put: the on-failure topic (a produce, as produce's).
    objects: ["get", "put"],
    listBucket: false,
    meta: "readwrite",
    api: false,
  },
};

/**
 * The function behind FloeSubscription's custom resource: creates, updates and deletes a
 * subscription at deploy time. Not one of the bus's functions (it exists only once a
 * FloeSubscription does), so not a FloeFunctionName.
 */
export const SUBSCRIPTION_RESOURCE_SPEC: FunctionSpec = {
  description: "Floe subscriptions: the CloudFormation resource (FloeSubscription)",
  timeout: Duration.minutes(1),
  // Get: a subscription starting AT_TIMESTAMP looks its offsets up in the segments.
  objects: ["get"],
  listBucket: false,
  meta: "readwrite",
  api: false,
};

/**
 * THE place that decides which functions are deployed: one entry per function, and each needs its
 * entry file functions/{name}.ts. Add "maintenance" once functions/maintenance.ts is committed;
 * its grants, alarms and schedule follow from here (as routes do for an API function).
 */
export const WIRED_FUNCTIONS: readonly FloeFunctionName[] = [
  "produce",
  "fetch",
  "admin",
  "groups",
  "maintenance",
  "dispatcher",
];

/**
 * The floe package's root: the nearest directory above this module whose package.json is named
 * "floe". The repository when this runs as cdk/*.ts (tsx), node_modules/floe when it runs as the
 * installed package's compiled construct (dist/construct/cdk/*.js). functions/ and src/ live here.
 */
export const PACKAGE_ROOT = findPackageRoot(path.dirname(fileURLToPath(import.meta.url)));
/** The package root, by its older name (the repository root, where the tests find cdk.json). */
export const PROJECT_ROOT = PACKAGE_ROOT;

function findPackageRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, "package.json");
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, "utf8")).name === "floe") return dir;
    if (path.dirname(dir) === dir) {
      throw new Error(`cannot find the floe package root (a package.json named "floe") above ${from}`);
    }
  }
}

const LOCK_FILES = ["pnpm-lock.yaml", "yarn.lock", "bun.lockb", "bun.lock", "package-lock.json"];

/**
 * NodejsFunction's projectRoot and depsLockFilePath: the nearest directory, from the package root
 * up, holding a lock file. In the repository that is the repository itself; in a project that
 * installed the package it is that project (node_modules/floe sits under it, and its esbuild and
 * node_modules resolve the functions' imports). NodejsFunction requires the entry to lie under
 * projectRoot and the lock file to lie in it. None found: NodejsFunction's own search from the
 * working directory, with its error message.
 */
export function bundlingRoot(): { projectRoot?: string; depsLockFilePath?: string } {
  for (let dir = PACKAGE_ROOT; ; dir = path.dirname(dir)) {
    const lock = LOCK_FILES.map((f) => path.join(dir, f)).find((f) => existsSync(f));
    if (lock) return { projectRoot: dir, depsLockFilePath: lock };
    if (path.dirname(dir) === dir) return {};
  }
}

export function functionEntry(name: FloeFunctionName | "subscription-resource"): string {
  const entry = path.join(PACKAGE_ROOT, "functions", `${name}.ts`);
  if (!existsSync(entry)) {
    throw new Error(
      `Floe function "${name}" is wired (cdk/functions.ts WIRED_FUNCTIONS) but its entry ${entry} does not exist`,
    );
  }
  return entry;
}
