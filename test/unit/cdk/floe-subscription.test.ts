/**
 * The subscription wiring of the CDK app (issue 14): the table's stream waking the dispatcher on
 * partition heads only, its schedule, least-privilege invoke grants per target, and
 * FloeSubscription's custom resource.
 */
import { App, Stack } from "aws-cdk-lib";
import * as lambda from "aws-cdk-lib/aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FloeBus } from "../../../cdk/floe-bus.js";
import { FloeSubscription, SUBSCRIPTION_RESOURCE_TYPE } from "../../../cdk/floe-subscription.js";
import {
  allowedActionsByRole,
  type CfnTemplate,
  functionId,
  removeAssemblies,
  resourcesOfType,
  roleOf,
  type Synthesized,
  synthesize,
} from "./synth.js";

afterAll(removeAssemblies);

function targetFunction(stack: Stack, id: string): lambda.Function {
  return new lambda.Function(stack, id, {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: "index.handler",
    code: lambda.Code.fromInline("exports.handler = async () => ({});"),
  });
}

/** Every Allow statement of a role's policies, with its resources. */
function statementsOf(json: CfnTemplate, role: string): { Action: string[]; Resource: unknown[] }[] {
  const out: { Action: string[]; Resource: unknown[] }[] = [];
  for (const [, policy] of resourcesOfType(json, "AWS::IAM::Policy")) {
    const roles = (policy.Properties!.Roles as { Ref: string }[]).map((r) => r.Ref);
    if (!roles.includes(role)) continue;
    const doc = policy.Properties!.PolicyDocument as {
      Statement: { Effect: string; Action: string | string[]; Resource: unknown }[];
    };
    for (const st of doc.Statement) {
      if (st.Effect === "Allow") out.push({ Action: [st.Action].flat(), Resource: [st.Resource].flat() });
    }
  }
  return out;
}

/** Logical ids of the functions whose ARN a role may invoke. */
function invocableBy(json: CfnTemplate, role: string): string[] {
  const ids = new Set<string>();
  for (const st of statementsOf(json, role)) {
    if (!st.Action.includes("lambda:InvokeFunction")) continue;
    for (const r of st.Resource) {
      const text = JSON.stringify(r);
      const m = /"Fn::GetAtt":\["([^"]+)","Arn"\]/.exec(text);
      if (!m) throw new Error(`an invoke grant on something other than a function ARN: ${text}`);
      ids.add(m[1]);
    }
  }
  return [...ids].sort();
}

describe("FloeBus subscription delivery", () => {
  let s: Synthesized;
  let targetId: string;
  let otherId: string;
  let listedId: string;
  beforeAll(() => {
    s = synthesize(
      (scope) => ({ subscriptionTargets: [targetFunction(scope as Stack, "ListedTarget")] }),
      {},
      {
        extend: (stack, bus) => {
          const target = targetFunction(stack, "OrdersTarget");
          targetFunction(stack, "NotATarget");
          new FloeSubscription(stack, "Orders", {
            bus,
            name: "orders-to-lambda",
            topics: ["orders"],
            target: { function: target },
            batchSize: 10,
            bisectBatchOnError: true,
            filters: [{ value: { type: ["created"] } }],
          });
          new FloeSubscription(stack, "Audit", {
            bus,
            name: "audit-to-http",
            topicRegex: "audit-.*",
            target: { url: "https://audit.example.com/floe" },
            enabled: false,
          });
        },
      },
    );
    const fnId = (prefix: string) =>
      resourcesOfType(s.json, "AWS::Lambda::Function")
        .map(([id]) => id)
        .find((id) => id.startsWith(prefix))!;
    targetId = fnId("OrdersTarget");
    otherId = fnId("NotATarget");
    listedId = fnId("ListedTarget");
  });

  it("passes cdk-nag AwsSolutions for everything Floe adds", () => {
    // The test's own target functions are not Floe's.
    expect(s.nagFindings.filter((f) => !/@ Floe\/(OrdersTarget|NotATarget|ListedTarget)/.test(f))).toEqual(
      [],
    );
  });

  it("streams the table's keys, and nothing but the partition heads invokes the dispatcher", () => {
    const [tableId, table] = resourcesOfType(s.json, "AWS::DynamoDB::Table")[0];
    expect(table.Properties!.StreamSpecification).toEqual({ StreamViewType: "KEYS_ONLY" });
    const mappings = resourcesOfType(s.json, "AWS::Lambda::EventSourceMapping").map(([, r]) => r.Properties!);
    expect(mappings).toHaveLength(1);
    const mapping = mappings[0];
    expect(mapping).toMatchObject({
      FunctionName: { Ref: functionId(s.json, "dispatcher") },
      EventSourceArn: { "Fn::GetAtt": [tableId, "StreamArn"] },
      StartingPosition: "LATEST",
      MaximumBatchingWindowInSeconds: 1,
      BisectBatchOnFunctionError: false,
      MaximumRetryAttempts: 2,
    });
    const filters = (mapping.FilterCriteria as { Filters: { Pattern: string }[] }).Filters;
    expect(filters.map((f) => JSON.parse(f.Pattern))).toEqual([
      { dynamodb: { Keys: { sk: { S: ["head"] } } } },
    ]);
  });

  it("lets the dispatcher invoke exactly the subscribed and listed functions", () => {
    const dispatcherRole = roleOf(s.json, functionId(s.json, "dispatcher"));
    expect(invocableBy(s.json, dispatcherRole)).toEqual([listedId, targetId].sort());
    expect(invocableBy(s.json, dispatcherRole)).not.toContain(otherId);
    // No other Floe role may invoke a target.
    for (const name of ["produce", "fetch", "admin", "groups", "maintenance"]) {
      expect(invocableBy(s.json, roleOf(s.json, functionId(s.json, name))), name).toEqual([]);
    }
  });

  it("creates each subscription through one custom resource provider, after the invoke grant", () => {
    const resources = resourcesOfType(s.json, SUBSCRIPTION_RESOURCE_TYPE);
    expect(resources).toHaveLength(2);
    const byName = Object.fromEntries(resources.map(([id, r]) => [r.Properties!.Name as string, { id, r }]));
    const orders = byName["orders-to-lambda"];
    const audit = byName["audit-to-http"];
    // One provider serves both.
    expect(orders.r.Properties!.ServiceToken).toEqual(audit.r.Properties!.ServiceToken);
    // The settings are one JSON string; the target's ARN is resolved by CloudFormation.
    const ordersJson = JSON.stringify(orders.r.Properties!.Subscription);
    expect(ordersJson).toContain(`{\\"Fn::GetAtt\\":[\\"${targetId}\\",\\"Arn\\"]}`.replace(/\\"/g, '"'));
    expect(ordersJson).toMatch(/\\"type\\":\\"lambda\\"/);
    expect(ordersJson).toMatch(/\\"batchSize\\":10/);
    expect(ordersJson).toMatch(/\\"bisectBatchOnError\\":true/);
    expect(ordersJson).toMatch(/\\"state\\":\\"Enabled\\"/);
    const auditJson = JSON.parse(audit.r.Properties!.Subscription as string);
    expect(auditJson).toEqual({
      topicRegex: "audit-.*",
      target: { type: "http", url: "https://audit.example.com/floe" },
      state: "Disabled",
    });
    // Deliveries may begin once it exists: the dispatcher's invoke grant is applied first.
    const dependsOn = (s.json.Resources[orders.id] as { DependsOn?: string[] }).DependsOn ?? [];
    const dispatcherPolicies = resourcesOfType(s.json, "AWS::IAM::Policy")
      .filter(([, p]) =>
        (p.Properties!.Roles as { Ref: string }[]).some(
          (r) => r.Ref === roleOf(s.json, functionId(s.json, "dispatcher")),
        ),
      )
      .map(([id]) => id);
    expect(dependsOn.some((d) => dispatcherPolicies.includes(d))).toBe(true);
  });

  it("gives the subscription resource's function the table and segment reads it needs, nothing more", () => {
    const onEvent = resourcesOfType(s.json, "AWS::Lambda::Function")
      .map(([id]) => id)
      .filter((id) => id.startsWith("BusSubscriptionResourceFunction"));
    expect(onEvent).toHaveLength(1);
    const actions = [...allowedActionsByRole(s.json).get(roleOf(s.json, onEvent[0]))!].sort();
    expect(actions).toEqual(
      [
        "dynamodb:GetItem",
        "dynamodb:Query",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:ConditionCheckItem",
        "s3:GetObject",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
      ].sort(),
    );
  });
});

describe("subscriptions without the dispatcher, and bad FloeSubscription props", () => {
  it("a bus without the dispatcher has no stream and refuses subscriptions", () => {
    const app = new App({ context: { "aws:cdk:bundling-stacks": [] } });
    const stack = new Stack(app, "NoDispatch");
    const bus = new FloeBus(stack, "Bus", { functions: ["produce", "fetch", "admin", "groups"] });
    expect(
      () =>
        new FloeSubscription(stack, "S", {
          bus,
          name: "s",
          topics: ["t"],
          target: { url: "https://x.test" },
        }),
    ).toThrow(/need the "dispatcher" function/);
    const json = app.synth().getStackArtifact(stack.artifactId).template as CfnTemplate;
    const [, table] = resourcesOfType(json, "AWS::DynamoDB::Table")[0];
    expect(table.Properties!.StreamSpecification).toBeUndefined();
    expect(resourcesOfType(json, "AWS::Lambda::EventSourceMapping")).toEqual([]);
  });

  it("needs exactly one of topics and topicRegex", () => {
    const app = new App({ context: { "aws:cdk:bundling-stacks": [] } });
    const stack = new Stack(app, "Bad");
    const bus = new FloeBus(stack, "Bus");
    const target = { url: "https://x.test" };
    expect(() => new FloeSubscription(stack, "A", { bus, name: "a", target })).toThrow(/exactly one of/);
    expect(
      () => new FloeSubscription(stack, "B", { bus, name: "b", topics: ["t"], topicRegex: "t.*", target }),
    ).toThrow(/exactly one of/);
  });
});
