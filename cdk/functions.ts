/**
 * The bus's Lambda functions: what each one is allowed to touch, how long it may run, and which
 * ones this app deploys. Every other part of the construct (routes, grants, alarms, dashboard,
 * outputs, the maintenance schedule) follows WIRED_FUNCTIONS.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Duration } from "aws-cdk-lib";

export type FloeFunctionName = "produce" | "fetch" | "admin" | "groups" | "maintenance";

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
];

/** The repository root: the bundler's project root, where package-lock.json and functions/ live. */
export const PROJECT_ROOT = fileURLToPath(new URL("..", import.meta.url));

export function functionEntry(name: FloeFunctionName): string {
  const entry = path.join(PROJECT_ROOT, "functions", `${name}.ts`);
  if (!existsSync(entry)) {
    throw new Error(
      `Floe function "${name}" is wired (cdk/functions.ts WIRED_FUNCTIONS) but its entry ${entry} does not exist`,
    );
  }
  return entry;
}
