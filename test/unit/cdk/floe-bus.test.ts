import { execFile } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { Duration, RemovalPolicy } from "aws-cdk-lib";
import { Match } from "aws-cdk-lib/assertions";
import * as kms from "aws-cdk-lib/aws-kms";
import * as sns from "aws-cdk-lib/aws-sns";
import { App, Stack } from "aws-cdk-lib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ESM_REQUIRE_BANNER, FloeBus } from "../../../cdk/floe-bus.js";
import { planRoutes } from "../../../cdk/routes.js";
import { apiRoutes } from "../../../src/api/route-table.js";
import {
  bundlingRoot,
  type FloeFunctionName,
  PROJECT_ROOT,
  WIRED_FUNCTIONS,
} from "../../../cdk/functions.js";
import {
  allowedActionsByRole,
  allowStatements,
  type CfnTemplate,
  functionId,
  removeAssemblies,
  resourcesOfType,
  roleOf,
  type Synthesized,
  synthesize,
} from "./synth.js";

const execFileAsync = promisify(execFile);

const normalize = (route: string) => route.replace(/\{[^}]+\}/g, "{}");

/** architecture §8 (plus the OpenAPI document), each with the function that must serve it. */
const DESIGN_ROUTES: { route: string; fn: FloeFunctionName }[] = [
  { route: "POST /v1/topics", fn: "admin" },
  { route: "GET /v1/topics", fn: "admin" },
  { route: "GET /v1/topics/{}", fn: "admin" },
  { route: "PATCH /v1/topics/{}", fn: "admin" },
  { route: "DELETE /v1/topics/{}", fn: "admin" },
  { route: "POST /v1/topics/{}/records", fn: "produce" },
  { route: "GET /v1/topics/{}/partitions/{}/records", fn: "fetch" },
  { route: "POST /v1/fetch", fn: "fetch" },
  { route: "GET /v1/topics/{}/partitions/{}/offsets", fn: "fetch" },
  { route: "GET /v1/health", fn: "admin" },
  { route: "GET /v1/openapi.json", fn: "admin" },
  { route: "POST /v1/groups/{}/heartbeat", fn: "groups" },
  { route: "POST /v1/groups/{}/offsets", fn: "groups" },
  { route: "GET /v1/groups/{}/offsets", fn: "groups" },
  { route: "GET /v1/groups", fn: "groups" },
  { route: "GET /v1/groups/{}", fn: "groups" },
  { route: "DELETE /v1/groups/{}", fn: "groups" },
  { route: "POST /v1/groups/{}/offsets/reset", fn: "groups" },
];
const EXPECTED_ROUTES = DESIGN_ROUTES.filter((r) => WIRED_FUNCTIONS.includes(r.fn));
/** What the handlers serve (src/api/route-table.ts): `common` routes go to admin, the rest to their group. */
const API_TABLE_ROUTES = apiRoutes
  .map((r) => ({
    route: normalize(`${r.method} ${r.path}`),
    fn: (r.group === "common" ? "admin" : r.group) as FloeFunctionName,
  }))
  .filter((r) => WIRED_FUNCTIONS.includes(r.fn));
const API_FUNCTIONS = WIRED_FUNCTIONS.filter((f) => f !== "maintenance" && f !== "dispatcher");

const LOGS = ["logs:CreateLogStream", "logs:PutLogEvents"];
const XRAY = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"];
const DDB_READ = ["dynamodb:GetItem", "dynamodb:Query"];
const DDB_RW = [
  ...DDB_READ,
  "dynamodb:PutItem",
  "dynamodb:UpdateItem",
  "dynamodb:DeleteItem",
  "dynamodb:ConditionCheckItem",
];
const DDB_STREAM = [
  "dynamodb:DescribeStream",
  "dynamodb:GetRecords",
  "dynamodb:GetShardIterator",
  "dynamodb:ListStreams",
];
/** Written out by hand, not derived from cdk/functions.ts: the least-privilege contract. */
const EXPECTED_ACTIONS: Record<FloeFunctionName, string[]> = {
  produce: [...DDB_RW, "s3:PutObject"],
  fetch: [...DDB_READ, "s3:GetObject"],
  admin: [...DDB_RW, "s3:GetObject", "s3:ListBucket"],
  groups: [...DDB_RW, "s3:GetObject"],
  maintenance: [...DDB_RW, "s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"],
  // Reads records, produces to failure topics; woken by the table's stream.
  dispatcher: [...DDB_RW, ...DDB_STREAM, "s3:GetObject", "s3:PutObject"],
};
const EXPECTED_TIMEOUT: Record<FloeFunctionName, number> = {
  produce: 10,
  fetch: 25,
  admin: 10,
  groups: 10,
  maintenance: 60,
  dispatcher: 300,
};

const onlyResource = (json: CfnTemplate, type: string) => {
  const found = resourcesOfType(json, type);
  expect(found, type).toHaveLength(1);
  return found[0];
};

afterAll(removeAssemblies);

describe("FloeBus wiring", () => {
  it("deploys exactly the functions whose entry files exist", () => {
    for (const name of WIRED_FUNCTIONS) {
      expect(existsSync(path.join(PROJECT_ROOT, "functions", `${name}.ts`)), `functions/${name}.ts`).toBe(
        true,
      );
    }
    expect(WIRED_FUNCTIONS).toEqual(expect.arrayContaining(["produce", "fetch", "admin"]));
  });

  it("bundles from the repository with its own lockfile (an installed copy: test/e2e/packed-tarball)", () => {
    expect(PROJECT_ROOT).toBe(path.resolve(import.meta.dirname, "../../.."));
    expect(bundlingRoot()).toEqual({
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: path.join(PROJECT_ROOT, "package-lock.json"),
    });
  });
});

// One synthesis per front door, shared by every assertion about it.
describe.each(["http", "rest", "url"] as const)("FloeBus with the %s front door", (frontDoor) => {
  let s: Synthesized;
  beforeAll(() => {
    // The bundles are the same in every mode: built (and run) once, with the http front door.
    s = synthesize({}, { frontDoor }, { bundle: frontDoor === "http" });
  });

  it("passes cdk-nag AwsSolutions with nothing left unacknowledged", () => {
    expect(s.nagFindings).toEqual([]);
  });

  it("blocks public access to the bucket, encrypts it, denies plain HTTP and aborts stale uploads", () => {
    const [bucketId, bucket] = onlyResource(s.json, "AWS::S3::Bucket");
    s.template.hasResourceProperties("AWS::S3::Bucket", {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } }],
      },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({ Status: "Enabled", AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }),
        ]),
      },
    });
    expect(bucket.Properties!.VersioningConfiguration).toBeUndefined();
    expect(bucket.DeletionPolicy).toBe("Retain");
    s.template.hasResourceProperties("AWS::S3::BucketPolicy", {
      Bucket: { Ref: bucketId },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: "Deny",
            Action: "s3:*",
            Condition: { Bool: { "aws:SecureTransport": "false" } },
          }),
        ]),
      },
    });
  });

  it("keys the table on pk/sk strings, on demand, with point-in-time recovery, encryption and deletion protection", () => {
    const [, table] = onlyResource(s.json, "AWS::DynamoDB::Table");
    s.template.hasResourceProperties("AWS::DynamoDB::Table", {
      KeySchema: [
        { AttributeName: "pk", KeyType: "HASH" },
        { AttributeName: "sk", KeyType: "RANGE" },
      ],
      AttributeDefinitions: [
        { AttributeName: "pk", AttributeType: "S" },
        { AttributeName: "sk", AttributeType: "S" },
      ],
      BillingMode: "PAY_PER_REQUEST",
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
      DeletionProtectionEnabled: true,
    });
    expect(table.DeletionPolicy).toBe("Retain");
  });

  it("runs every function on Node.js 22, arm64, traced, with the bus's environment", () => {
    const [bucketId] = onlyResource(s.json, "AWS::S3::Bucket");
    const [tableId] = onlyResource(s.json, "AWS::DynamoDB::Table");
    for (const name of WIRED_FUNCTIONS) {
      const fn = s.json.Resources[functionId(s.json, name)].Properties!;
      expect(fn, name).toMatchObject({
        Runtime: "nodejs22.x",
        Architectures: ["arm64"],
        Handler: "index.handler",
        MemorySize: 1024,
        Timeout: EXPECTED_TIMEOUT[name],
        TracingConfig: { Mode: "Active" },
        Environment: {
          Variables: {
            FLOE_STORAGE: "aws",
            FLOE_BUCKET: { Ref: bucketId },
            FLOE_TABLE: { Ref: tableId },
            FLOE_AUTO_CREATE_TOPICS: "false",
            POWERTOOLS_SERVICE_NAME: "floe",
            POWERTOOLS_METRICS_NAMESPACE: "Floe",
          },
        },
      });
      expect(fn.ReservedConcurrentExecutions, name).toBeUndefined();
      // Its own log group, with a retention.
      const logGroup = (fn.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
      expect(s.json.Resources[logGroup].Properties!.RetentionInDays).toBe(30);
    }
    // No function beyond the wired ones.
    expect(resourcesOfType(s.json, "AWS::Lambda::Function")).toHaveLength(WIRED_FUNCTIONS.length);
  });

  it("grants each function exactly the actions its code issues, never a wildcard action", () => {
    for (const st of allowStatements(s.json)) {
      for (const action of [st.Action].flat()) {
        expect(String(action), `${st.where}: ${String(action)}`).not.toContain("*");
      }
    }
    const byRole = allowedActionsByRole(s.json);
    for (const name of WIRED_FUNCTIONS) {
      const role = roleOf(s.json, functionId(s.json, name));
      const role_ = s.json.Resources[role].Properties!;
      expect(role_.ManagedPolicyArns, `${name} has no managed policies`).toBeUndefined();
      expect([...byRole.get(role)!].sort(), name).toEqual(
        [...EXPECTED_ACTIONS[name], ...LOGS, ...XRAY].sort(),
      );
    }
  });

  it("lets no function but maintenance delete objects, and fetch write nothing", () => {
    const byRole = allowedActionsByRole(s.json);
    const maintenanceRole = roleOf(s.json, functionId(s.json, "maintenance"));
    for (const [role, actions] of byRole) {
      if (role === maintenanceRole) continue;
      expect(
        [...actions].filter((a) => /^s3:Delete/i.test(a)),
        role,
      ).toEqual([]);
    }
    const fetchActions = [...byRole.get(roleOf(s.json, functionId(s.json, "fetch")))!];
    const writes = fetchActions.filter((a) =>
      /^(s3:(Put|Delete|Create|Restore|Abort)|dynamodb:(Put|Update|Delete|Batch|ConditionCheck|Transact))/.test(
        a,
      ),
    );
    expect(writes).toEqual([]);
  });

  it("scopes object actions to segments/ and table actions to the table", () => {
    const [bucketId] = onlyResource(s.json, "AWS::S3::Bucket");
    const [tableId] = onlyResource(s.json, "AWS::DynamoDB::Table");
    for (const [, policy] of resourcesOfType(s.json, "AWS::IAM::Policy")) {
      const statements = (policy.Properties!.PolicyDocument as { Statement: Record<string, unknown>[] })
        .Statement;
      for (const st of statements) {
        const actions = [st.Action].flat() as string[];
        if (actions.some((a) => a === "dynamodb:ListStreams")) {
          // Takes no resource (CDK merges it with X-Ray's, which take none either).
          expect(actions.filter((a) => !XRAY.includes(a))).toEqual(["dynamodb:ListStreams"]);
          expect(st.Resource).toBe("*");
        } else if (actions.some((a) => /^dynamodb:(DescribeStream|GetRecords|GetShardIterator)$/.test(a))) {
          expect(st.Resource).toEqual({ "Fn::GetAtt": [tableId, "StreamArn"] });
        } else if (actions.some((a) => a.startsWith("dynamodb:"))) {
          expect(st.Resource).toEqual({ "Fn::GetAtt": [tableId, "Arn"] });
        }
        if (actions.some((a) => /^s3:(Get|Put|Delete)Object$/.test(a))) {
          expect(st.Resource).toEqual({
            "Fn::Join": ["", [{ "Fn::GetAtt": [bucketId, "Arn"] }, "/segments/*"]],
          });
        }
        if (actions.includes("s3:ListBucket")) {
          expect(st.Resource).toEqual({ "Fn::GetAtt": [bucketId, "Arn"] });
        }
      }
    }
  });

  if (frontDoor === "http") {
    it("routes every architecture §8 path to its function, all behind IAM authorization", () => {
      const integrations = Object.fromEntries(
        resourcesOfType(s.json, "AWS::ApiGatewayV2::Integration").map(([id, r]) => [id, r.Properties!]),
      );
      const targetOf = (target: unknown) => {
        const join = (target as { "Fn::Join": [string, unknown[]] })["Fn::Join"][1];
        const integration = integrations[(join[1] as { Ref: string }).Ref];
        return (integration.IntegrationUri as { "Fn::GetAtt": [string, string] })["Fn::GetAtt"][0];
      };
      const routes = resourcesOfType(s.json, "AWS::ApiGatewayV2::Route").map(([, r]) => r.Properties!);
      const served = Object.fromEntries(
        routes.map((r) => [normalize(r.RouteKey as string), targetOf(r.Target)]),
      );
      for (const { route, fn } of EXPECTED_ROUTES) {
        expect(served[route], route).toBe(functionId(s.json, fn));
      }
      // The catch-all answers unknown paths in Floe's error format.
      expect(served.$default).toBe(functionId(s.json, "admin"));
      // Every route the handlers serve is wired (routes beyond architecture §8 go to their group's function), nothing else.
      expect(Object.keys(served).sort()).toEqual(
        [...API_TABLE_ROUTES.map((r) => r.route), "$default"].sort(),
      );
      for (const { route, fn } of API_TABLE_ROUTES) expect(served[route], route).toBe(functionId(s.json, fn));
      for (const r of routes) expect(r.AuthorizationType, r.RouteKey as string).toBe("AWS_IAM");
      s.template.hasResourceProperties("AWS::ApiGatewayV2::Stage", {
        StageName: "$default",
        AutoDeploy: true,
        AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp("requestId") },
      });
      expect(outputKeys(s.json)).toEqual(expect.arrayContaining([expect.stringMatching(/ApiUrl/)]));
    });
  }

  if (frontDoor === "http") {
    // The bundles do not depend on the front door: checked once.
    it("bundles each function as an ESM file for node22 with a require shim and no static native import", () => {
      for (const name of WIRED_FUNCTIONS) {
        const code = readFileSync(bundleOf(s, name), "utf8");
        expect(code.startsWith(ESM_REQUIRE_BANNER), name).toBe(true);
        // A top-level import of the native module would fail every cold start in Lambda.
        expect(code, name).not.toMatch(/from\s*["']better-sqlite3["']/);
        expect(code, name).not.toMatch(/import\s*["']better-sqlite3["']/);
      }
    });

    it("loads a bundle and answers requests where only the AWS SDK is installed, as in Lambda", async () => {
      const admin = await invokeBundle(bundleOf(s, "admin"), apiEvent("GET", "/v1/openapi.json"));
      expect(admin.statusCode).toBe(200);
      expect(JSON.parse(admin.body as string)).toMatchObject({ openapi: expect.stringMatching(/^3\./) });
      // Storage unreachable: the health route reports it instead of crashing.
      const health = await invokeBundle(bundleOf(s, "fetch"), apiEvent("GET", "/v1/health"));
      expect(health.statusCode).toBe(503);
      expect(JSON.parse(health.body as string)).toMatchObject({ checks: { metaStore: { status: "error" } } });
      const groups = await invokeBundle(bundleOf(s, "groups"), apiEvent("GET", "/v1/groups"));
      expect(groups.statusCode).toBe(503);
      expect(JSON.parse(groups.body as string)).toMatchObject({ error: { retriable: true } });
    });
  }

  if (frontDoor === "rest") {
    it("routes every architecture §8 path to its function through IAM-authorized proxy integrations", () => {
      const resources = Object.fromEntries(
        resourcesOfType(s.json, "AWS::ApiGateway::Resource").map(([id, r]) => [id, r.Properties!]),
      );
      const pathOf = (ref: unknown): string => {
        if (typeof ref === "object" && ref !== null && "Fn::GetAtt" in ref) return ""; // the root
        const r = resources[(ref as { Ref: string }).Ref];
        return `${pathOf(r.ParentId)}/${r.PathPart as string}`;
      };
      const served: Record<string, string> = {};
      for (const [, m] of resourcesOfType(s.json, "AWS::ApiGateway::Method")) {
        const p = m.Properties!;
        expect(p.AuthorizationType).toBe("AWS_IAM");
        const integration = p.Integration as { Type: string; Uri: { "Fn::Join": [string, unknown[]] } };
        expect(integration.Type).toBe("AWS_PROXY");
        const fnRef = integration.Uri["Fn::Join"][1].find(
          (x) => typeof x === "object" && x !== null && "Fn::GetAtt" in x,
        ) as { "Fn::GetAtt": [string, string] };
        served[normalize(`${p.HttpMethod as string} ${pathOf(p.ResourceId)}`)] = fnRef["Fn::GetAtt"][0];
      }
      for (const { route, fn } of [...EXPECTED_ROUTES, ...API_TABLE_ROUTES]) {
        expect(served[route], route).toBe(functionId(s.json, fn));
      }
      expect(served["ANY /{}"]).toBe(functionId(s.json, "admin"));
      expect(served["ANY "]).toBe(functionId(s.json, "admin"));
      s.template.hasResourceProperties("AWS::ApiGateway::RestApi", {
        BinaryMediaTypes: Match.arrayWith(["application/vnd.kafka.record-batch.v2"]),
      });
      s.template.hasResourceProperties("AWS::ApiGateway::Stage", {
        AccessLogSetting: { DestinationArn: Match.anyValue() },
        MethodSettings: Match.arrayWith([Match.objectLike({ LoggingLevel: "ERROR" })]),
      });
    });
  }

  if (frontDoor !== "url") {
    it("outputs ApiUrl, ApiId, ApiStage, BucketName and TableName under exactly those keys (issue 13)", () => {
      const [bucketId] = onlyResource(s.json, "AWS::S3::Bucket");
      const [tableId] = onlyResource(s.json, "AWS::DynamoDB::Table");
      const outputs = s.json.Outputs ?? {};
      expect(outputKeys(s.json).sort()).toEqual(["ApiId", "ApiStage", "ApiUrl", "BucketName", "TableName"]);
      expect(outputs.BucketName.Value).toEqual({ Ref: bucketId });
      expect(outputs.TableName.Value).toEqual({ Ref: tableId });
      const [apiId] = onlyResource(
        s.json,
        frontDoor === "http" ? "AWS::ApiGatewayV2::Api" : "AWS::ApiGateway::RestApi",
      );
      expect(outputs.ApiId.Value).toEqual({ Ref: apiId });
      if (frontDoor === "http") expect(outputs.ApiStage.Value).toBe("$default");
      else {
        const [stageId, stage] = onlyResource(s.json, "AWS::ApiGateway::Stage");
        expect(outputs.ApiStage.Value).toEqual({ Ref: stageId });
        expect(stage.Properties!.StageName).toBe("prod");
      }
      expect(JSON.stringify(outputs.ApiUrl.Value)).toContain(apiId);
    });
  }

  if (frontDoor === "url") {
    it("gives every API function an AWS_IAM Function URL and outputs each", () => {
      const urls = resourcesOfType(s.json, "AWS::Lambda::Url").map(([, r]) => r.Properties!);
      expect(urls).toHaveLength(API_FUNCTIONS.length);
      for (const name of API_FUNCTIONS) {
        const url = urls.find(
          (u) =>
            (u.TargetFunctionArn as { "Fn::GetAtt": [string, string] })["Fn::GetAtt"][0] ===
            functionId(s.json, name),
        );
        expect(url, name).toMatchObject({ AuthType: "AWS_IAM" });
      }
      expect(outputKeys(s.json).sort()).toEqual([
        "AdminFunctionUrl",
        "BucketName",
        "FetchFunctionUrl",
        "GroupsFunctionUrl",
        "ProduceFunctionUrl",
        "TableName",
      ]);
      for (const name of API_FUNCTIONS) {
        const Name = name.charAt(0).toUpperCase() + name.slice(1);
        expect(s.json.Outputs?.[`${Name}FunctionUrl`].Value, name).toEqual({
          "Fn::GetAtt": [expect.stringMatching(new RegExp(`^Bus${Name}FunctionFunctionUrl`)), "FunctionUrl"],
        });
      }
      expect(resourcesOfType(s.json, "AWS::ApiGatewayV2::Api")).toEqual([]);
      expect(resourcesOfType(s.json, "AWS::ApiGateway::RestApi")).toEqual([]);
    });
  }

  it("runs maintenance and the subscription dispatcher on one-minute schedules", () => {
    const rules = resourcesOfType(s.json, "AWS::Events::Rule").map(([, r]) => r.Properties!);
    expect(rules).toHaveLength(2);
    for (const name of ["maintenance", "dispatcher"]) {
      expect(rules, name).toContainEqual(
        expect.objectContaining({
          ScheduleExpression: "rate(1 minute)",
          State: "ENABLED",
          Targets: [expect.objectContaining({ Arn: { "Fn::GetAtt": [functionId(s.json, name), "Arn"] } })],
        }),
      );
    }
  });

  it("alarms on function errors and throttles, produce p99 latency and table throttling, and has a dashboard", () => {
    const alarms = resourcesOfType(s.json, "AWS::CloudWatch::Alarm").map(([, r]) => r.Properties!);
    for (const name of WIRED_FUNCTIONS) {
      for (const metric of ["Errors", "Throttles"]) {
        expect(
          alarms.some(
            (a) =>
              a.Namespace === "AWS/Lambda" &&
              a.MetricName === metric &&
              JSON.stringify(a.Dimensions).includes(functionId(s.json, name)),
          ),
          `${name} ${metric}`,
        ).toBe(true);
      }
    }
    expect(alarms.find((a) => a.MetricName === "Duration" && a.ExtendedStatistic === "p99")).toMatchObject({
      Threshold: 1000,
      Dimensions: [{ Name: "FunctionName", Value: { Ref: functionId(s.json, "produce") } }],
    });
    const tableAlarm = alarms.find((a) => JSON.stringify(a.Metrics ?? []).includes("ThrottledRequests"));
    expect(tableAlarm).toBeDefined();
    expect(alarms.every((a) => a.TreatMissingData === "notBreaching")).toBe(true);

    const [, dashboard] = onlyResource(s.json, "AWS::CloudWatch::Dashboard");
    const body = JSON.stringify(dashboard.Properties!.DashboardBody);
    for (const text of [
      "Invocations",
      "p50",
      "p99",
      "Errors",
      "RecordsIn",
      "RecordsOut",
      "BytesIn",
      "ConsumerLag",
      "Objects",
      "RecordsDelivered",
      "DeliveryRetries",
      "OldestUndeliveredAgeMs",
    ]) {
      expect(body, text).toContain(text);
    }
    expect(body).toContain('Namespace=\\\\\\"Floe\\\\\\"');
  });
});

describe("FloeBus stack outputs", () => {
  it("prefix their keys with outputPrefix, so one stack can hold two buses", () => {
    const outdir = mkdtempSync(path.join(os.tmpdir(), "floe-cdk-two-"));
    try {
      const app = new App({ outdir, context: { "aws:cdk:bundling-stacks": [] } });
      const stack = new Stack(app, "Two");
      new FloeBus(stack, "Orders", { frontDoor: "rest" });
      new FloeBus(stack, "Audit", { frontDoor: "rest", outputPrefix: "Audit" });
      const json = app.synth().getStackArtifact(stack.artifactId).template as CfnTemplate;
      expect(outputKeys(json).sort()).toEqual(
        [
          "ApiId",
          "ApiStage",
          "ApiUrl",
          "BucketName",
          "TableName",
          "AuditApiId",
          "AuditApiStage",
          "AuditApiUrl",
          "AuditBucketName",
          "AuditTableName",
        ].sort(),
      );
      expect(JSON.stringify(json.Outputs?.AuditBucketName.Value)).toMatch(/AuditSegments/);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});

describe("FloeBus with JWT auth, DESTROY removal, a KMS key and overrides", () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synthesize((scope) => ({
      frontDoor: "http",
      auth: "jwt",
      jwt: { issuer: "https://issuer.example.com", audience: ["floe"] },
      removalPolicy: RemovalPolicy.DESTROY,
      encryptionKey: new kms.Key(scope, "Key", { enableKeyRotation: true }),
      alarmTopic: new sns.Topic(scope, "Alarms", {
        enforceSSL: true,
        masterKey: kms.Alias.fromAliasName(scope, "SnsKey", "alias/aws/sns"),
      }),
      autoCreateTopics: true,
      memorySize: 512,
      functionMemorySize: { produce: 2048 },
      reservedConcurrency: { fetch: 5 },
      produceP99Threshold: Duration.millis(750),
    }));
  });

  it("passes cdk-nag AwsSolutions with nothing left unacknowledged", () => {
    expect(s.nagFindings).toEqual([]);
  });

  it("authorizes every route with the JWT issuer and audience", () => {
    s.template.hasResourceProperties("AWS::ApiGatewayV2::Authorizer", {
      AuthorizerType: "JWT",
      JwtConfiguration: { Issuer: "https://issuer.example.com", Audience: ["floe"] },
    });
    for (const [, r] of resourcesOfType(s.json, "AWS::ApiGatewayV2::Route")) {
      expect(r.Properties!.AuthorizationType).toBe("JWT");
    }
  });

  it("deletes the bucket (emptied first) and table with the stack, without deletion protection", () => {
    const [, bucket] = onlyResource(s.json, "AWS::S3::Bucket");
    const [, table] = onlyResource(s.json, "AWS::DynamoDB::Table");
    expect(bucket.DeletionPolicy).toBe("Delete");
    expect(table.DeletionPolicy).toBe("Delete");
    expect(table.Properties!.DeletionProtectionEnabled).toBe(false);
    expect(resourcesOfType(s.json, "Custom::S3AutoDeleteObjects")).toHaveLength(1);
  });

  it("encrypts bucket and table with the key and grants only explicit KMS actions", () => {
    const [keyId] = onlyResource(s.json, "AWS::KMS::Key");
    s.template.hasResourceProperties("AWS::S3::Bucket", {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            ServerSideEncryptionByDefault: {
              SSEAlgorithm: "aws:kms",
              KMSMasterKeyID: { "Fn::GetAtt": [keyId, "Arn"] },
            },
          },
        ],
      },
    });
    s.template.hasResourceProperties("AWS::DynamoDB::Table", {
      SSESpecification: {
        SSEEnabled: true,
        SSEType: "KMS",
        KMSMasterKeyId: { "Fn::GetAtt": [keyId, "Arn"] },
      },
    });
    const byRole = allowedActionsByRole(s.json);
    const fetchKms = [...byRole.get(roleOf(s.json, functionId(s.json, "fetch")))!].filter((a) =>
      a.startsWith("kms:"),
    );
    const produceKms = [...byRole.get(roleOf(s.json, functionId(s.json, "produce")))!].filter((a) =>
      a.startsWith("kms:"),
    );
    expect(fetchKms).toEqual(["kms:Decrypt"]);
    expect(produceKms.sort()).toEqual(["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]);
  });

  it("applies memory, concurrency, auto-create and alarm settings", () => {
    const fn = (name: FloeFunctionName) => s.json.Resources[functionId(s.json, name)].Properties!;
    expect(fn("produce").MemorySize).toBe(2048);
    expect(fn("fetch").MemorySize).toBe(512);
    expect(fn("fetch").ReservedConcurrentExecutions).toBe(5);
    expect(
      (fn("admin").Environment as { Variables: Record<string, unknown> }).Variables.FLOE_AUTO_CREATE_TOPICS,
    ).toBe("true");
    const alarms = resourcesOfType(s.json, "AWS::CloudWatch::Alarm").map(([, r]) => r.Properties!);
    expect(alarms.find((a) => a.ExtendedStatistic === "p99")?.Threshold).toBe(750);
    const [topicId] = onlyResource(s.json, "AWS::SNS::Topic");
    for (const a of alarms) {
      expect(a.AlarmActions).toEqual([{ Ref: topicId }]);
      expect(a.OKActions).toEqual([{ Ref: topicId }]);
    }
  });
});

describe("FloeBus refuses misconfiguration before bundling anything", () => {
  const build =
    (props: ConstructorParameters<typeof FloeBus>[2], context: Record<string, unknown> = {}) =>
    () => {
      const app = new App({ context });
      new FloeBus(new Stack(app, "Floe"), "Bus", props);
    };

  it("JWT needs the HTTP API", () => {
    const jwt = { issuer: "https://issuer.example.com", audience: ["floe"] };
    expect(build({ frontDoor: "rest", auth: "jwt", jwt })).toThrow(/JWT authorization needs the HTTP API/);
    expect(build({ frontDoor: "url", auth: "jwt", jwt })).toThrow(/JWT authorization needs the HTTP API/);
  });

  it("JWT needs an issuer and an audience", () => {
    expect(build({ auth: "jwt" })).toThrow(/jwt.issuer/);
    expect(build({ auth: "jwt", jwt: { issuer: "https://i", audience: [] } })).toThrow(/audience/);
  });

  it("an unknown frontDoor or auth context value", () => {
    expect(build({}, { frontDoor: "alb" })).toThrow(/frontDoor="alb"/);
    expect(build({}, { auth: "basic" })).toThrow(/auth="basic"/);
  });

  it("a bus without the admin function, which answers health and unmatched paths", () => {
    expect(build({ functions: ["produce", "fetch"] })).toThrow(/needs the "admin" function/);
  });
});

describe("route plan", () => {
  it("sends common routes to admin and every other route to its group's function", () => {
    const { routes, undeployed } = planRoutes(["produce", "fetch", "admin", "groups"]);
    expect(undeployed).toEqual([]);
    for (const r of routes) {
      const route = apiRoutes.find((a) => a.method === r.method && a.path === r.path)!;
      expect(r.fn).toBe(route.group === "common" ? "admin" : route.group);
    }
    expect(routes).toHaveLength(apiRoutes.length);
  });

  it("leaves out the routes of a function that is not deployed instead of failing the synth", () => {
    const { routes, undeployed } = planRoutes(["fetch", "admin"]);
    expect(undeployed.map((r) => `${r.method} ${r.path}`)).toContain("POST /v1/topics/{topic}/records");
    expect(undeployed.every((r) => r.fn !== "fetch" && r.fn !== "admin")).toBe(true);
    expect(routes.some((r) => r.fn === "produce")).toBe(false);
  });

  it("warns at synth about the routes it leaves out", () => {
    const s = synthesize({ functions: ["fetch", "admin"] });
    expect(s.warnings.join("\n")).toMatch(/Not exposed.*\(produce\b.*POST \/v1\/topics\/\{topic\}\/records/);
    expect(resourcesOfType(s.json, "AWS::Lambda::Function")).toHaveLength(2);
  });
});

/** The bundled index.mjs of a function, in the cloud assembly. */
function bundleOf(s: Synthesized, name: FloeFunctionName): string {
  const code = s.json.Resources[functionId(s.json, name)].Properties!.Code as { S3Key: string };
  return path.join(s.outdir, `asset.${code.S3Key.replace(/\.zip$/, "")}`, "index.mjs");
}

function apiEvent(method: string, rawPath: string): Record<string, unknown> {
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath,
    rawQueryString: "",
    headers: { host: "floe.test", accept: "application/json" },
    isBase64Encoded: false,
    requestContext: {
      accountId: "123456789012",
      apiId: "floe",
      domainName: "floe.test",
      domainPrefix: "floe",
      http: { method, path: rawPath, protocol: "HTTP/1.1", sourceIp: "127.0.0.1", userAgent: "vitest" },
      requestId: "test",
      routeKey: "$default",
      stage: "$default",
      time: new Date().toISOString(),
      timeEpoch: Date.now(),
    },
  };
}

/**
 * Runs a bundle the way Lambda's Node.js runtime does: a directory holding only the bundle, with
 * the AWS SDK resolvable (the runtime ships it) and nothing else, so a stray dependency on
 * better-sqlite3 or any unbundled package fails here. Storage points at a closed port.
 */
async function invokeBundle(
  bundle: string,
  event: Record<string, unknown>,
): Promise<{ statusCode: number; body?: string }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "floe-lambda-"));
  copyFileSync(bundle, path.join(dir, "index.mjs"));
  mkdirSync(path.join(dir, "node_modules"));
  symlinkSync(
    path.join(PROJECT_ROOT, "node_modules", "@aws-sdk"),
    path.join(dir, "node_modules", "@aws-sdk"),
  );
  const script = `
    const { handler } = await import("./index.mjs");
    const result = await handler(JSON.parse(process.env.EVENT), {});
    process.stdout.write(JSON.stringify(result));
  `;
  try {
    const { stdout } = await execFileAsync(process.execPath, ["--input-type=module", "-e", script], {
      cwd: dir,
      timeout: 30_000,
      env: {
        PATH: process.env.PATH,
        EVENT: JSON.stringify(event),
        FLOE_STORAGE: "aws",
        FLOE_BUCKET: "floe-test",
        FLOE_TABLE: "floe-test",
        AWS_REGION: "us-east-1",
        AWS_ACCESS_KEY_ID: "test",
        AWS_SECRET_ACCESS_KEY: "test",
        AWS_ENDPOINT_URL: "http://127.0.0.1:9",
        AWS_MAX_ATTEMPTS: "1",
        POWERTOOLS_LOG_LEVEL: "SILENT",
      },
    });
    return JSON.parse(stdout) as { statusCode: number; body?: string };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function outputKeys(json: CfnTemplate): string[] {
  return Object.keys(json.Outputs ?? {});
}
