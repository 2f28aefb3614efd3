/**
 * Synthesizes a stack holding one FloeBus, the way `cdk synth` does (cdk.json's context), and runs
 * cdk-nag's AwsSolutions pack over it. Bundling is most of the cost and its output does not depend
 * on the props, so only a synthesis asked to `bundle` runs esbuild (the others skip it, as
 * `cdk synth --exclusively` does for other stacks); the function definitions are the same.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { App, Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { AwsSolutionsChecks } from "cdk-nag";
import type { Construct } from "constructs";
import { FloeBus, type FloeBusProps } from "../../../cdk/floe-bus.js";
import { PROJECT_ROOT } from "../../../cdk/functions.js";

export interface Synthesized {
  stack: Stack;
  bus: FloeBus;
  template: Template;
  /** The raw template, for walking every resource. */
  json: CfnTemplate;
  /** The cloud assembly directory (asset bundles live under it). */
  outdir: string;
  /** cdk-nag AwsSolutions findings left after acknowledgements: `rule @ path (severity)`. */
  nagFindings: string[];
  /** Synth warnings (annotations) on the stack's constructs. */
  warnings: string[];
}

export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
  Metadata?: Record<string, unknown>;
}

export interface CfnTemplate {
  Resources: Record<string, CfnResource>;
  Outputs?: Record<string, { Value: unknown; Description?: string }>;
}

const outdirs: string[] = [];

/** Removes every cloud assembly this module synthesized (bundles included). */
export function removeAssemblies(): void {
  for (const dir of outdirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** cdk.json's context: the feature flags `cdk synth` runs with. */
function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(path.join(PROJECT_ROOT, "cdk.json"), "utf8")) as {
    context?: Record<string, unknown>;
  };
  return cdkJson.context ?? {};
}

export function synthesize(
  props: FloeBusProps | ((scope: Construct) => FloeBusProps) = {},
  context: Record<string, unknown> = {},
  options: {
    bundle?: boolean;
    /** Adds more to the stack once the bus is in it (a FloeSubscription, a target function). */
    extend?: (stack: Stack, bus: FloeBus) => void;
  } = {},
): Synthesized {
  const outdir = mkdtempSync(path.join(os.tmpdir(), "floe-cdk-"));
  outdirs.push(outdir);
  const skipBundling = options.bundle ? {} : { "aws:cdk:bundling-stacks": [] };
  const app = new App({ outdir, context: { ...cdkJsonContext(), ...skipBundling, ...context } });
  const stack = new Stack(app, "Floe");
  const bus = new FloeBus(stack, "Bus", typeof props === "function" ? props(stack) : props);
  options.extend?.(stack, bus);
  const assembly = app.synth();
  const artifact = assembly.getStackArtifact(stack.artifactId);
  const json = artifact.template as CfnTemplate;
  const warnings = artifact.messages.filter((m) => m.level === "warning").map((m) => String(m.entry.data));
  const report = new AwsSolutionsChecks(app).validateScope(app);
  const nagFindings = report.violations.flatMap((v) =>
    v.violatingResources.map((r) => `${v.ruleName} @ ${r.constructPath} (${v.severity ?? "error"})`),
  );
  return { stack, bus, template: Template.fromJSON(json), json, outdir, nagFindings, warnings };
}

/** Resources of one CloudFormation type, by logical id. */
export function resourcesOfType(json: CfnTemplate, type: string): [string, CfnResource][] {
  return Object.entries(json.Resources).filter(([, r]) => r.Type === type);
}

/** The logical id of a bus function (`Bus{Name}Function…`). */
export function functionId(json: CfnTemplate, name: string): string {
  const prefix = `Bus${name.charAt(0).toUpperCase()}${name.slice(1)}Function`;
  const ids = resourcesOfType(json, "AWS::Lambda::Function")
    .map(([id]) => id)
    .filter((id) => id.startsWith(prefix) && !id.slice(prefix.length).startsWith("Url"));
  if (ids.length !== 1)
    throw new Error(`expected one ${prefix}* function, found ${ids.join(", ") || "none"}`);
  return ids[0];
}

/** Every string action of every Allow statement, per IAM role logical id (inline and attached policies). */
export function allowedActionsByRole(json: CfnTemplate): Map<string, Set<string>> {
  const byRole = new Map<string, Set<string>>();
  const add = (role: string, statements: unknown[]) => {
    const set = byRole.get(role) ?? new Set<string>();
    for (const s of statements as { Effect: string; Action: string | string[] }[]) {
      if (s.Effect !== "Allow") continue;
      for (const a of [s.Action].flat()) set.add(a);
    }
    byRole.set(role, set);
  };
  for (const [, policy] of resourcesOfType(json, "AWS::IAM::Policy")) {
    const doc = policy.Properties!.PolicyDocument as { Statement: unknown[] };
    for (const role of policy.Properties!.Roles as { Ref: string }[]) add(role.Ref, doc.Statement);
  }
  for (const [id, role] of resourcesOfType(json, "AWS::IAM::Role")) {
    for (const p of (role.Properties!.Policies ?? []) as { PolicyDocument: { Statement: unknown[] } }[]) {
      add(id, p.PolicyDocument.Statement);
    }
    if (!byRole.has(id)) byRole.set(id, new Set());
  }
  return byRole;
}

/** Every Allow statement in the template: IAM policies, inline role policies and resource policies. */
export function allowStatements(json: CfnTemplate): { where: string; Action: unknown; Resource: unknown }[] {
  const out: { where: string; Action: unknown; Resource: unknown }[] = [];
  const visit = (where: string, doc: unknown) => {
    for (const s of ((doc as { Statement?: unknown[] })?.Statement ?? []) as Record<string, unknown>[]) {
      if (s.Effect === "Allow") out.push({ where, Action: s.Action, Resource: s.Resource });
    }
  };
  for (const [id, r] of Object.entries(json.Resources)) {
    const p = r.Properties ?? {};
    if (p.PolicyDocument) visit(id, p.PolicyDocument);
    for (const inline of (p.Policies ?? []) as { PolicyDocument: unknown }[])
      visit(id, inline.PolicyDocument);
  }
  return out;
}

/** The role logical id a function runs as. */
export function roleOf(json: CfnTemplate, functionLogicalId: string): string {
  const role = json.Resources[functionLogicalId].Properties!.Role as { "Fn::GetAtt": [string, string] };
  return role["Fn::GetAtt"][0];
}
