/**
 * FloeBus: the whole event bus as one construct — segment bucket, metadata table, the Lambda
 * functions, a front door, the maintenance schedule, alarms and a dashboard. Another CDK app
 * imports it from the installed package (`import { FloeBus } from "floe/cdk"`, cdk/index.ts);
 * cdk/app.ts deploys it as the `Floe` stack.
 */
import { Annotations, Duration, RemovalPolicy, Stack, Validations } from "aws-cdk-lib";
import * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import * as events from "aws-cdk-lib/aws-events";
import * as targets from "aws-cdk-lib/aws-events-targets";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as kms from "aws-cdk-lib/aws-kms";
import * as lambda from "aws-cdk-lib/aws-lambda";
import { DynamoEventSource } from "aws-cdk-lib/aws-lambda-event-sources";
import { NodejsFunction, OutputFormat } from "aws-cdk-lib/aws-lambda-nodejs";
import * as logs from "aws-cdk-lib/aws-logs";
import * as s3 from "aws-cdk-lib/aws-s3";
import type * as sns from "aws-cdk-lib/aws-sns";
import * as cr from "aws-cdk-lib/custom-resources";
import { Construct } from "constructs";
import {
  type AuthMode,
  capitalize,
  FRONT_DOORS,
  FrontDoor,
  type FrontDoorKind,
  type JwtAuthProps,
  stackOutput,
  validateAuth,
} from "./front-door.js";
import {
  bundlingRoot,
  type FloeFunctionName,
  FUNCTION_SPECS,
  type FunctionSpec,
  functionEntry,
  SUBSCRIPTION_RESOURCE_SPEC,
  WIRED_FUNCTIONS,
} from "./functions.js";
import { METRICS_NAMESPACE, Observability } from "./observability.js";
import { planRoutes } from "./routes.js";

export interface FloeBusProps {
  /**
   * How callers reach the bus: `http` (API Gateway HTTP API), `rest` (API Gateway REST API) or `url`
   * (one Lambda Function URL per function). Default: context `frontDoor`, else `http`.
   */
  frontDoor?: FrontDoorKind;
  /** `iam` (SigV4, default) or `jwt` (HTTP API only; needs `jwt`). Default: context `auth`, else `iam`. */
  auth?: AuthMode;
  jwt?: JwtAuthProps;
  /** Kafka's auto.create.topics.enable for the deployed functions. Default false. */
  autoCreateTopics?: boolean;
  /** Kafka's num.partitions: partitions of an auto-created topic (env FLOE_DEFAULT_PARTITIONS). Default 1. */
  defaultPartitions?: number;
  /** Kafka's log.retention.ms: retention.ms of topics that set none (env FLOE_DEFAULT_RETENTION_MS). Default 7 days. */
  defaultRetention?: Duration;
  /** Lambda memory (MB) of every function; also buys CPU for encoding and CRCs. Default 1024. */
  memorySize?: number;
  /** Per-function memory (MB), overriding `memorySize`. */
  functionMemorySize?: Partial<Record<FloeFunctionName, number>>;
  /** Reserved concurrency per function (none by default: new accounts have little to reserve). */
  reservedConcurrency?: Partial<Record<FloeFunctionName, number>>;
  /**
   * What `cdk destroy` does to the bucket and table (and log groups). Default RETAIN: the log
   * survives the stack. DESTROY also empties the bucket on delete.
   */
  removalPolicy?: RemovalPolicy;
  /** DynamoDB deletion protection. Default: on unless removalPolicy is DESTROY. */
  deletionProtection?: boolean;
  /** A customer-managed KMS key for the bucket and table. Default: S3-managed and AWS-managed keys. */
  encryptionKey?: kms.IKey;
  /** Bucket for S3 server access logs of the segment bucket. Default: none. */
  serverAccessLogsBucket?: s3.IBucket;
  /** Retention of function and access logs. Default one month. */
  logRetention?: logs.RetentionDays;
  /** How often maintenance runs. Default every minute. */
  maintenanceSchedule?: events.Schedule;
  /**
   * How often the subscription dispatcher runs when no data arrives (retries, batching windows,
   * paused and deleted subscriptions); new data wakes it through the table's stream. Default every
   * minute.
   */
  dispatchSchedule?: events.Schedule;
  /**
   * Lambda functions subscriptions may deliver to: the dispatcher gets lambda:InvokeFunction on
   * each, and on nothing else (FloeSubscription and grantDispatch add more). Default none.
   */
  subscriptionTargets?: lambda.IFunction[];
  /**
   * Whether subscriptions' HTTP targets may be private addresses (loopback, 10/8, 172.16/12,
   * 192.168/16, 100.64/10, link-local, unique-local IPv6 and the like), set on the dispatcher as
   * env FLOE_SUBSCRIPTION_PRIVATE_TARGETS. Default "deny": the dispatcher checks the address it
   * connects to, so whoever may create a subscription cannot make it POST to the Lambda runtime
   * API on loopback or, with the function in a VPC, to internal services (SSRF; decision 0013).
   * "allow" to deliver to private endpoints on purpose (a dispatcher you attached to a VPC).
   */
  subscriptionPrivateTargets?: "allow" | "deny";
  /** Produce p99 duration alarm threshold. Default 1 s. */
  produceP99Threshold?: Duration;
  /** SNS topic for alarm and OK notifications. Default: none. */
  alarmTopic?: sns.ITopic;
  /** Active X-Ray tracing on the functions. Default true. */
  tracing?: boolean;
  /** Name of the CloudWatch dashboard. Default: generated. */
  dashboardName?: string;
  /** Which functions to deploy. Default WIRED_FUNCTIONS (cdk/functions.ts). */
  functions?: readonly FloeFunctionName[];
  /**
   * Prefix of the keys of the stack outputs the bus adds: `ApiUrl`, `ApiId`, `ApiStage` (http,
   * rest), `BucketName`, `TableName`, and `ProduceFunctionUrl`, `FetchFunctionUrl`,
   * `AdminFunctionUrl`, `GroupsFunctionUrl` (url). The keys are exactly these, wherever the bus
   * sits in the construct tree, so scripts can read them; a stack holding two buses gives each its
   * own prefix. Default "".
   */
  outputPrefix?: string;
}

/** The subscriptionPrivateTargets prop, checked: a JavaScript caller's typo fails the synth. */
function subscriptionPrivateTargets(props: FloeBusProps): "allow" | "deny" {
  const value = props.subscriptionPrivateTargets ?? "deny";
  if (value !== "allow" && value !== "deny") {
    throw new Error(
      `FloeBus subscriptionPrivateTargets must be "allow" or "deny", got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/** Segment objects live under this prefix (architecture §2); object grants are scoped to it. */
export const SEGMENT_PREFIX = "segments/";

/** esbuild's ESM output has no `require`; CommonJS dependencies bundled into it need one. */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __floeCreateRequire } from 'node:module'; const require = __floeCreateRequire(import.meta.url);";

/**
 * Kept out of the bundles. The Node.js 22 runtime ships AWS SDK v3. better-sqlite3 is a native
 * module only the embedded backend uses, and sqlite-meta-store.js (which imports it) is loaded only
 * on that path: leaving it external keeps esbuild from hoisting `import "better-sqlite3"` to the
 * top of the ESM bundle, where it would fail every cold start.
 */
export const EXTERNAL_MODULES = ["@aws-sdk/*", "better-sqlite3", "./sqlite-meta-store.js"];

const DYNAMODB_READ = ["dynamodb:GetItem", "dynamodb:Query"];
/** TransactWriteItems is authorized per contained action: Put, Update, Delete, ConditionCheck. */
const DYNAMODB_WRITE = [
  "dynamodb:PutItem",
  "dynamodb:UpdateItem",
  "dynamodb:DeleteItem",
  "dynamodb:ConditionCheckItem",
];
const S3_OBJECT_ACTIONS = { get: "s3:GetObject", put: "s3:PutObject", delete: "s3:DeleteObject" } as const;

export class FloeBus extends Construct {
  readonly bucket: s3.Bucket;
  readonly table: dynamodb.Table;
  readonly functions: Partial<Record<FloeFunctionName, NodejsFunction>> = {};
  readonly frontDoor: FrontDoor;
  readonly observability: Observability;
  readonly maintenanceRule?: events.Rule;
  /** The dispatcher's schedule (undefined when the dispatcher is not deployed). */
  readonly dispatchRule?: events.Rule;
  /** The API base URL (http, rest); undefined with Function URLs (see frontDoor.functionUrls). */
  readonly url?: string;
  private readonly functionProps: FunctionProps;
  private subscriptionProvider?: cr.Provider;

  constructor(scope: Construct, id: string, props: FloeBusProps = {}) {
    super(scope, id);
    const frontDoor = props.frontDoor ?? contextChoice(this, "frontDoor", FRONT_DOORS, "http");
    const auth = props.auth ?? contextChoice(this, "auth", ["iam", "jwt"] as const, "iam");
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const destroy = removalPolicy === RemovalPolicy.DESTROY;
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    const wired = props.functions ?? WIRED_FUNCTIONS;
    // Checked before anything is bundled: a misconfiguration fails in milliseconds.
    validateAuth(frontDoor, auth, props.jwt);
    const privateTargets = subscriptionPrivateTargets(props);
    // admin answers health, the OpenAPI document and every unmatched path.
    if (!wired.includes("admin")) throw new Error('FloeBus needs the "admin" function (functions: [...])');
    const { routes, undeployed } = planRoutes(wired);
    if (undeployed.length > 0) {
      const fns = [...new Set(undeployed.map((r) => r.fn))];
      Annotations.of(this).addWarningV2(
        "floe:routes-not-deployed",
        `Not exposed, their function (${fns.join(", ")}) is not deployed: ` +
          `${undeployed.map((r) => `${r.method} ${r.path}`).join(", ")}. Add it to WIRED_FUNCTIONS in cdk/functions.ts.`,
      );
    }

    this.bucket = new s3.Bucket(this, "Segments", {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      encryption: props.encryptionKey ? s3.BucketEncryption.KMS : s3.BucketEncryption.S3_MANAGED,
      encryptionKey: props.encryptionKey,
      bucketKeyEnabled: props.encryptionKey ? true : undefined,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      // Segments are immutable and garbage-collected by maintenance: versions would only keep garbage.
      versioned: false,
      lifecycleRules: [
        { id: "AbortIncompleteUploads", abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      serverAccessLogsBucket: props.serverAccessLogsBucket,
      serverAccessLogsPrefix: props.serverAccessLogsBucket ? "floe-segments/" : undefined,
      removalPolicy,
      autoDeleteObjects: destroy,
    });

    this.table = new dynamodb.Table(this, "Metadata", {
      partitionKey: { name: "pk", type: dynamodb.AttributeType.STRING },
      sortKey: { name: "sk", type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: props.encryptionKey
        ? dynamodb.TableEncryption.CUSTOMER_MANAGED
        : dynamodb.TableEncryption.AWS_MANAGED,
      encryptionKey: props.encryptionKey,
      deletionProtection: props.deletionProtection ?? !destroy,
      removalPolicy,
      // Wakes the subscription dispatcher when a partition head changes (data arrived). Keys are
      // all it reads: which item changed, not what it holds.
      stream: wired.includes("dispatcher") ? dynamodb.StreamViewType.KEYS_ONLY : undefined,
    });

    const environment: Record<string, string> = {
      FLOE_STORAGE: "aws",
      FLOE_BUCKET: this.bucket.bucketName,
      FLOE_TABLE: this.table.tableName,
      FLOE_AUTO_CREATE_TOPICS: String(props.autoCreateTopics ?? false),
      FLOE_DEFAULT_PARTITIONS: String(props.defaultPartitions ?? 1),
      FLOE_DEFAULT_RETENTION_MS: String((props.defaultRetention ?? Duration.days(7)).toMilliseconds()),
      POWERTOOLS_SERVICE_NAME: "floe",
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      POWERTOOLS_LOG_LEVEL: "INFO",
      NODE_OPTIONS: "--enable-source-maps",
    };

    this.functionProps = { props, environment, logRetention, removalPolicy };
    for (const name of wired) {
      this.functions[name] = this.createFunction(name, FUNCTION_SPECS[name], {
        memorySize: props.functionMemorySize?.[name],
        reservedConcurrency: props.reservedConcurrency?.[name],
      });
    }

    this.frontDoor = new FrontDoor(this, "FrontDoor", {
      kind: frontDoor,
      auth,
      jwt: props.jwt,
      functions: this.functions,
      routes,
      fallback: "admin",
      logRetention,
      removalPolicy,
      outputPrefix: props.outputPrefix ?? "",
    });
    this.url = this.frontDoor.url;

    const maintenance = this.functions.maintenance;
    if (maintenance) {
      this.maintenanceRule = new events.Rule(this, "MaintenanceSchedule", {
        description: "Runs Floe maintenance: compaction, retention, garbage collection",
        schedule: props.maintenanceSchedule ?? events.Schedule.rate(Duration.minutes(1)),
        // A missed run is covered by the next one: no retries piling up behind a slow run.
        targets: [
          new targets.LambdaFunction(maintenance, { retryAttempts: 0, maxEventAge: Duration.minutes(1) }),
        ],
      });
    }

    const dispatcher = this.functions.dispatcher;
    if (dispatcher) {
      dispatcher.addEnvironment("FLOE_SUBSCRIPTION_PRIVATE_TARGETS", privateTargets);
      // Only partition heads: every append moves one, and nothing else means there is data to
      // deliver. Group heartbeats, offset commits and the dispatcher's own writes are filtered out
      // before Lambda is invoked.
      dispatcher.addEventSource(
        new DynamoEventSource(this.table, {
          startingPosition: lambda.StartingPosition.LATEST,
          // The records are only a wake-up: one invocation serves every head that changed within a
          // second, and whatever a run misses the next run (or the schedule) delivers.
          batchSize: 1000,
          maxBatchingWindow: Duration.seconds(1),
          retryAttempts: 2,
          bisectBatchOnError: false,
          reportBatchItemFailures: false,
          filters: [lambda.FilterCriteria.filter({ dynamodb: { Keys: { sk: { S: ["head"] } } } })],
        }),
      );
      this.dispatchRule = new events.Rule(this, "DispatchSchedule", {
        description:
          "Runs the Floe subscription dispatcher: retries, batching windows, paused and deleted subscriptions",
        schedule: props.dispatchSchedule ?? events.Schedule.rate(Duration.minutes(1)),
        // A missed run is covered by the next one (or the next append).
        targets: [
          new targets.LambdaFunction(dispatcher, { retryAttempts: 0, maxEventAge: Duration.minutes(1) }),
        ],
      });
      for (const target of props.subscriptionTargets ?? []) this.grantDispatch(target);
    }

    this.observability = new Observability(this, "Observability", {
      functions: this.functions,
      table: this.table,
      produceP99Threshold: props.produceP99Threshold ?? Duration.seconds(1),
      alarmTopic: props.alarmTopic,
      dashboardName: props.dashboardName,
    });

    const prefix = props.outputPrefix ?? "";
    stackOutput(this, prefix, "BucketName", this.bucket.bucketName, "Floe segment bucket");
    stackOutput(this, prefix, "TableName", this.table.tableName, "Floe metadata table");

    this.acknowledgeNagFindings(props);
  }

  /** Lets `grantee` call the bus's API: execute-api:Invoke, or lambda:InvokeFunctionUrl on every URL. */
  grantInvoke(grantee: iam.IGrantable): iam.Grant {
    return this.frontDoor.grantInvoke(grantee);
  }

  /**
   * Lets the subscription dispatcher invoke `target`: lambda:InvokeFunction on exactly its ARN (an
   * alias or version passed as `target` is that qualified ARN), nothing else. What a subscription
   * whose target is this function needs (FloeSubscription grants it itself).
   */
  grantDispatch(target: lambda.IFunction): iam.Grant {
    const dispatcher = this.functions.dispatcher;
    if (!dispatcher) {
      throw new Error('Subscriptions need the "dispatcher" function (FloeBus functions: [...])');
    }
    return iam.Grant.addToPrincipal({
      grantee: dispatcher,
      actions: ["lambda:InvokeFunction"],
      resourceArns: [target.functionArn],
    });
  }

  /**
   * The custom-resource provider FloeSubscription creates subscriptions through: one per bus,
   * made on first use so a bus without subscriptions carries none of it.
   */
  subscriptionResourceProvider(): cr.Provider {
    if (this.subscriptionProvider) return this.subscriptionProvider;
    if (!this.functions.dispatcher) {
      throw new Error('Subscriptions need the "dispatcher" function (FloeBus functions: [...])');
    }
    const onEvent = this.createFunction("subscription-resource", SUBSCRIPTION_RESOURCE_SPEC, {});
    this.acknowledgeFunctionFindings(onEvent, SUBSCRIPTION_RESOURCE_SPEC);
    const { logRetention, removalPolicy } = this.functionProps;
    this.subscriptionProvider = new cr.Provider(this, "SubscriptionProvider", {
      onEventHandler: onEvent,
      logGroup: new logs.LogGroup(this, "SubscriptionProviderLogs", {
        retention: logRetention,
        removalPolicy,
      }),
    });
    acknowledgeProviderFindings(this.subscriptionProvider, onEvent);
    return this.subscriptionProvider;
  }

  private createFunction(
    name: FloeFunctionName | "subscription-resource",
    spec: FunctionSpec,
    sizing: { memorySize?: number; reservedConcurrency?: number },
  ): NodejsFunction {
    const { props, environment, logRetention, removalPolicy } = this.functionProps;
    const Name = name.split("-").map(capitalize).join("");
    // Own role, own log group: no managed policies, and each function writes only its own logs.
    const role = new iam.Role(this, `${Name}Role`, {
      assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com"),
      description: `Floe ${name} function`,
    });
    const logGroup = new logs.LogGroup(this, `${Name}Logs`, { retention: logRetention, removalPolicy });
    logGroup.grantWrite(role);
    this.grantStorage(role, spec, props.encryptionKey);

    const fn = new NodejsFunction(this, `${Name}Function`, {
      description: spec.description,
      entry: functionEntry(name),
      handler: "handler",
      ...bundlingRoot(),
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: sizing.memorySize ?? props.memorySize ?? 1024,
      timeout: spec.timeout,
      reservedConcurrentExecutions: sizing.reservedConcurrency,
      role,
      logGroup,
      tracing: (props.tracing ?? true) ? lambda.Tracing.ACTIVE : lambda.Tracing.DISABLED,
      environment: {
        ...environment,
        FLOE_REQUEST_TIMEOUT_MS: String(Math.max(1_000, spec.timeout.toMilliseconds() - 2_000)),
      },
      bundling: {
        format: OutputFormat.ESM,
        target: "node22",
        platform: "node",
        mainFields: ["module", "main"],
        banner: ESM_REQUIRE_BANNER,
        externalModules: EXTERNAL_MODULES,
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        // No Docker: the esbuild in node_modules bundles.
        forceDockerBundling: false,
      },
    });
    return fn;
  }

  /** Exactly the actions each function's code issues, each on exactly its resources. */
  private grantStorage(role: iam.Role, spec: FunctionSpec, key?: kms.IKey): void {
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: "MetadataTable",
        actions: spec.meta === "readwrite" ? [...DYNAMODB_READ, ...DYNAMODB_WRITE] : DYNAMODB_READ,
        resources: [this.table.tableArn],
      }),
    );
    if (spec.objects.length > 0) {
      role.addToPolicy(
        new iam.PolicyStatement({
          sid: "SegmentObjects",
          actions: spec.objects.map((a) => S3_OBJECT_ACTIONS[a]),
          resources: [this.bucket.arnForObjects(`${SEGMENT_PREFIX}*`)],
        }),
      );
    }
    if (spec.listBucket) {
      role.addToPolicy(
        new iam.PolicyStatement({
          sid: "SegmentListing",
          actions: ["s3:ListBucket"],
          resources: [this.bucket.bucketArn],
        }),
      );
    }
    if (key) {
      const writes = spec.meta === "readwrite" || spec.objects.includes("put");
      key.grant(role, "kms:Decrypt", ...(writes ? ["kms:Encrypt", "kms:GenerateDataKey"] : []));
    }
  }

  /** The findings every function of the bus shares, each acknowledged with why it does not apply. */
  private acknowledgeFunctionFindings(fn: NodejsFunction, spec: FunctionSpec): void {
    const bucketId = Stack.of(this).getLogicalId(this.bucket.node.defaultChild as s3.CfnBucket);
    Validations.of(fn).acknowledge({
      id: "AwsSolutions-L1",
      reason:
        "Floe targets the Node.js 22 Lambda runtime on purpose: the bundles are built for node22 and tested on it.",
    });
    if (spec.objects.length > 0) {
      Validations.of(fn.role!).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${SEGMENT_PREFIX}*]`,
        reason: `Segment keys are unique per write (${SEGMENT_PREFIX}{yyyy}/{mm}/{dd}/{hh}/{ulid}.floe), so object actions can only be scoped to the ${SEGMENT_PREFIX} prefix.`,
      });
    }
    // X-Ray's actions, and the stream event source's dynamodb:ListStreams, take no resource.
    Validations.of(fn.role!).acknowledge({
      id: "AwsSolutions-IAM5[Resource::*]",
      reason:
        "xray:PutTraceSegments, xray:PutTelemetryRecords and dynamodb:ListStreams (the dispatcher's stream trigger) support no resource-level permissions.",
    });
  }

  /**
   * Every accepted cdk-nag (AwsSolutions) finding, each acknowledged on the narrowest construct with
   * the reason it does not apply here. cdk-nag 3 reads CDK's own acknowledgements
   * (Validations.of(c).acknowledge), which also cover the construct's descendants.
   */
  private acknowledgeNagFindings(props: FloeBusProps): void {
    for (const [name, fn] of Object.entries(this.functions) as [FloeFunctionName, NodejsFunction][]) {
      this.acknowledgeFunctionFindings(fn, FUNCTION_SPECS[name]);
    }
    if (!props.serverAccessLogsBucket) {
      Validations.of(this.bucket).acknowledge({
        id: "AwsSolutions-S1",
        reason:
          "Only the bus's own functions touch the segment bucket (public access blocked, TLS enforced); pass serverAccessLogsBucket to log every request.",
      });
    }
    const autoDelete = Stack.of(this).node.tryFindChild("Custom::S3AutoDeleteObjectsCustomResourceProvider");
    if (autoDelete) {
      Validations.of(autoDelete).acknowledge(
        {
          id: "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
          reason:
            "CDK's auto-delete-objects provider (removalPolicy DESTROY only) logs through AWSLambdaBasicExecutionRole.",
        },
        {
          id: "AwsSolutions-L1",
          reason: "CDK's auto-delete-objects provider runtime is chosen and updated by aws-cdk-lib.",
        },
      );
    }
    const { httpApi, restApi } = this.frontDoor;
    if (httpApi) {
      Validations.of(httpApi).acknowledge({
        id: "AwsSolutions-COG4",
        reason:
          "Callers are services authenticating with IAM (SigV4) or the configured JWT issuer, not Cognito user pools.",
      });
    }
    if (restApi) {
      Validations.of(restApi).acknowledge(
        {
          id: "AwsSolutions-COG4",
          reason: "Callers are services authenticating with IAM (SigV4), not Cognito user pools.",
        },
        {
          id: "AwsSolutions-APIG3",
          reason:
            "Every method requires a SigV4 signature, so unsigned traffic is refused before any function runs; associate a WAFv2 web ACL with the stage when the API faces untrusted networks (LocalStack's free editions have no WAF).",
        },
        {
          id: "AwsSolutions-APIG2",
          reason:
            "The functions validate every request against the API's schemas and answer with Kafka error codes (architecture §8); API Gateway models would duplicate them in another error format.",
        },
        {
          id: "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]",
          reason:
            "API Gateway's account-level CloudWatch role, needed for REST stage logging, uses the policy AWS documents for it.",
        },
      );
    }
  }
}

/** What every function the bus makes shares. */
interface FunctionProps {
  props: FloeBusProps;
  environment: Record<string, string>;
  logRetention: logs.RetentionDays;
  removalPolicy: RemovalPolicy;
}

/** cdk-nag findings on CDK's custom-resource provider framework, which Floe does not write. */
function acknowledgeProviderFindings(provider: cr.Provider, onEvent: NodejsFunction): void {
  const onEventId = Stack.of(provider).getLogicalId(onEvent.node.defaultChild as lambda.CfnFunction);
  Validations.of(provider).acknowledge(
    {
      id: "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
      reason: "CDK's custom-resource provider framework logs through AWSLambdaBasicExecutionRole.",
    },
    {
      id: `AwsSolutions-IAM5[Resource::<${onEventId}.Arn>:*]`,
      reason:
        "CDK's provider framework may invoke any version of the subscription-resource function, and only it.",
    },
    {
      id: "AwsSolutions-L1",
      reason: "CDK's custom-resource provider framework runtime is chosen and updated by aws-cdk-lib.",
    },
  );
}

function contextChoice<T extends string>(
  scope: Construct,
  key: string,
  allowed: readonly T[],
  fallback: T,
): T {
  const raw = scope.node.tryGetContext(key);
  if (raw === undefined || raw === "") return fallback;
  if (!allowed.includes(raw)) {
    throw new Error(`context ${key}=${JSON.stringify(raw)}: expected one of ${allowed.join(", ")}`);
  }
  return raw as T;
}
