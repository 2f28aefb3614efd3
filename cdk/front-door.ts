/**
 * The three ways in: an API Gateway HTTP API (default), a REST API (v1), or one Lambda Function URL
 * per function (free LocalStack editions serve the last two, not HTTP APIs). Each authenticates
 * with IAM (SigV4); the HTTP API can take a JWT authorizer instead.
 */
import { CfnOutput, type RemovalPolicy } from "aws-cdk-lib";
import * as apigw from "aws-cdk-lib/aws-apigateway";
import * as apigwv2 from "aws-cdk-lib/aws-apigatewayv2";
import { HttpIamAuthorizer, HttpJwtAuthorizer } from "aws-cdk-lib/aws-apigatewayv2-authorizers";
import { HttpLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import * as iam from "aws-cdk-lib/aws-iam";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as logs from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import { PARTITION_BATCHES_MEDIA_TYPE } from "../src/api/routes/multi-produce-route.js";
import { RECORD_BATCH_MEDIA_TYPE } from "../src/api/routes/record-batch-media.js";
import type { FloeFunctionName } from "./functions.js";
import type { FrontDoorRoute } from "./routes.js";

export type FrontDoorKind = "http" | "rest" | "url";
export const FRONT_DOORS: readonly FrontDoorKind[] = ["http", "rest", "url"];

export type AuthMode = "iam" | "jwt";

export interface JwtAuthProps {
  /** The token issuer URL, e.g. https://cognito-idp.{region}.amazonaws.com/{userPoolId}. */
  issuer: string;
  /** Accepted `aud` (or `client_id`) values; at least one. */
  audience: string[];
}

export interface FrontDoorProps {
  kind: FrontDoorKind;
  auth: AuthMode;
  jwt?: JwtAuthProps;
  /** The deployed API functions by name. */
  functions: Partial<Record<FloeFunctionName, lambda.IFunction>>;
  routes: readonly FrontDoorRoute[];
  /** Answers paths no route matches, in Floe's error format instead of API Gateway's. */
  fallback: FloeFunctionName;
  logRetention: logs.RetentionDays;
  removalPolicy: RemovalPolicy;
  /** Prefix of the stack outputs' logical ids (FloeBusProps.outputPrefix). */
  outputPrefix: string;
}

/** One of the three front doors, with its URL(s) and a way to let a principal call it. */
export class FrontDoor extends Construct {
  readonly kind: FrontDoorKind;
  /** The base URL callers use (http/rest); undefined for Function URLs, which have one per function. */
  readonly url?: string;
  readonly functionUrls: Partial<Record<FloeFunctionName, lambda.FunctionUrl>> = {};
  readonly httpApi?: apigwv2.HttpApi;
  readonly restApi?: apigw.RestApi;
  readonly accessLogs?: logs.LogGroup;

  constructor(scope: Construct, id: string, props: FrontDoorProps) {
    super(scope, id);
    this.kind = props.kind;
    validateAuth(props.kind, props.auth, props.jwt);
    if (props.kind !== "url") {
      this.accessLogs = new logs.LogGroup(this, "AccessLogs", {
        retention: props.logRetention,
        removalPolicy: props.removalPolicy,
      });
    }
    switch (props.kind) {
      case "http": {
        const { api, stage } = this.buildHttpApi(props);
        this.httpApi = api;
        this.url = stage.url;
        break;
      }
      case "rest":
        this.restApi = this.buildRestApi(props);
        this.url = this.restApi.url;
        break;
      case "url":
        this.buildFunctionUrls(props);
        break;
    }
    const api = this.httpApi ?? this.restApi;
    if (this.url !== undefined && api) {
      stackOutput(this, props.outputPrefix, "ApiUrl", this.url, `Floe API base URL (${props.kind})`);
      const apiId = this.httpApi ? this.httpApi.apiId : this.restApi!.restApiId;
      stackOutput(this, props.outputPrefix, "ApiId", apiId, `Floe API id (${props.kind})`);
      const stage = this.httpApi ? "$default" : this.restApi!.deploymentStage.stageName;
      stackOutput(this, props.outputPrefix, "ApiStage", stage, "Floe API stage");
    }
  }

  /** Lets `grantee` call the bus: execute-api:Invoke on the API, or lambda:InvokeFunctionUrl on every URL. */
  grantInvoke(grantee: iam.IGrantable): iam.Grant {
    if (this.httpApi || this.restApi) {
      const resource = this.httpApi
        ? this.httpApi.arnForExecuteApi()
        : this.restApi!.arnForExecuteApi("*", "/*", this.restApi!.deploymentStage.stageName);
      return iam.Grant.addToPrincipal({ grantee, actions: ["execute-api:Invoke"], resourceArns: [resource] });
    }
    const grants = Object.values(this.functionUrls).map((u) => u.grantInvokeUrl(grantee));
    return grants.reduce((all, g) => all.combine(g));
  }

  private fn(props: FrontDoorProps, name: FloeFunctionName): lambda.IFunction {
    const fn = props.functions[name];
    if (!fn) throw new Error(`front door: route target "${name}" is not a deployed function`);
    return fn;
  }

  private buildHttpApi(props: FrontDoorProps): { api: apigwv2.HttpApi; stage: apigwv2.HttpStage } {
    const integrations = new Map<FloeFunctionName, HttpLambdaIntegration>();
    const integration = (name: FloeFunctionName) => {
      let i = integrations.get(name);
      if (!i)
        integrations.set(name, (i = new HttpLambdaIntegration(`${name}Integration`, this.fn(props, name))));
      return i;
    };
    const authorizer =
      props.auth === "jwt"
        ? new HttpJwtAuthorizer("JwtAuthorizer", props.jwt!.issuer, { jwtAudience: props.jwt!.audience })
        : new HttpIamAuthorizer();
    const api = new apigwv2.HttpApi(this, "HttpApi", {
      description: "Floe event bus HTTP API (v1 routes, architecture §8)",
      defaultAuthorizer: authorizer,
      // The stage is made below, with access logging.
      createDefaultStage: false,
      // Unmatched paths reach a function, so callers get Floe's JSON error body rather than API Gateway's.
      defaultIntegration: integration(props.fallback),
    });
    const stage = api.addStage("DefaultStage", {
      stageName: "$default",
      autoDeploy: true,
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(this.accessLogs!),
        format: apigw.AccessLogFormat.custom(
          JSON.stringify({
            requestId: "$context.requestId",
            ip: "$context.identity.sourceIp",
            caller: "$context.identity.userArn",
            requestTime: "$context.requestTime",
            method: "$context.httpMethod",
            routeKey: "$context.routeKey",
            path: "$context.path",
            status: "$context.status",
            protocol: "$context.protocol",
            responseLength: "$context.responseLength",
            responseLatency: "$context.responseLatency",
            integrationLatency: "$context.integrationLatency",
            integrationError: "$context.integrationErrorMessage",
            authorizerError: "$context.authorizer.error",
          }),
        ),
      },
    });
    for (const route of props.routes) {
      api.addRoutes({
        path: route.path,
        methods: [route.method as apigwv2.HttpMethod],
        integration: integration(route.fn),
      });
    }
    return { api, stage };
  }

  private buildRestApi(props: FrontDoorProps): apigw.RestApi {
    const integrations = new Map<FloeFunctionName, apigw.LambdaIntegration>();
    const integration = (name: FloeFunctionName) => {
      let i = integrations.get(name);
      if (!i)
        integrations.set(
          name,
          (i = new apigw.LambdaIntegration(this.fn(props, name), { proxy: true, allowTestInvoke: false })),
        );
      return i;
    };
    const api = new apigw.RestApi(this, "RestApi", {
      description: "Floe event bus REST API (v1 routes, architecture §8)",
      endpointTypes: [apigw.EndpointType.REGIONAL],
      // Execution and access logging on a REST API need the account's API Gateway CloudWatch role.
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: props.removalPolicy,
      defaultMethodOptions: { authorizationType: apigw.AuthorizationType.IAM },
      // What `/` and `/{proxy+}` (every path no route matches) reach: Floe's own 404/405 error bodies.
      defaultIntegration: integration(props.fallback),
      // The binary fast path (raw RecordBatch v2 bytes, one partition's or many partitions' framed,
      // architecture §8) must reach the function as base64 and come back as bytes; HTTP APIs and
      // Function URLs do that for any non-text type already.
      binaryMediaTypes: [RECORD_BATCH_MEDIA_TYPE, PARTITION_BATCHES_MEDIA_TYPE, "application/octet-stream"],
      deployOptions: {
        stageName: "prod",
        loggingLevel: apigw.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        metricsEnabled: true,
        tracingEnabled: true,
        accessLogDestination: new apigw.LogGroupLogDestination(this.accessLogs!),
        accessLogFormat: apigw.AccessLogFormat.jsonWithStandardFields(),
      },
    });
    for (const route of props.routes) {
      api.root.resourceForPath(route.path).addMethod(route.method, integration(route.fn));
    }
    api.root.addProxy({ anyMethod: true });
    // RestApi outputs its URL as `{path}Endpoint{hash}`; the ApiUrl output carries the same value.
    api.node.tryRemoveChild("Endpoint");
    return api;
  }

  private buildFunctionUrls(props: FrontDoorProps): void {
    const served = [...new Set(props.routes.map((r) => r.fn))];
    for (const name of served) {
      const url = this.fn(props, name).addFunctionUrl({ authType: lambda.FunctionUrlAuthType.AWS_IAM });
      this.functionUrls[name] = url;
      stackOutput(
        this,
        props.outputPrefix,
        `${capitalize(name)}FunctionUrl`,
        url.url,
        `Floe ${name} function URL (AWS_IAM): serves the ${name} routes`,
      );
    }
  }
}

/** JWT needs the HTTP API (REST APIs and Function URLs have no JWT authorizer) and an issuer and audience. */
export function validateAuth(kind: FrontDoorKind, auth: AuthMode, jwt?: JwtAuthProps): void {
  if (auth === "jwt" && kind !== "http") {
    throw new Error(`JWT authorization needs the HTTP API front door; "${kind}" supports IAM (SigV4) only`);
  }
  if (auth === "jwt" && (!jwt?.issuer || !jwt.audience?.length)) {
    throw new Error("JWT authorization needs jwt.issuer and at least one jwt.audience");
  }
}

/**
 * A stack output whose key is `prefix + name` exactly (`ApiUrl`, not `BusFrontDoorApiUrlA1B2C3D4`):
 * the name `cdk deploy --outputs-file` and `aws cloudformation describe-stacks` show, which scripts
 * and the deploy docs read, so it must not depend on where the construct sits in the tree.
 */
export function stackOutput(
  scope: Construct,
  prefix: string,
  name: string,
  value: string,
  description: string,
) {
  const output = new CfnOutput(scope, name, { value, description });
  output.overrideLogicalId(`${prefix}${name}`);
  return output;
}

export function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
