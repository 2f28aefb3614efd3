/**
 * The CDK app: one stack holding the whole bus. `npx cdk synth|deploy|destroy` runs this file
 * (cdk.json). Context (-c key=value): stackName (default Floe), frontDoor (http | rest | url),
 * auth (iam | jwt) with jwtIssuer and jwtAudience (comma-separated), autoCreateTopics (true|false),
 * removalPolicy (retain | destroy), nag (false skips the cdk-nag AwsSolutions checks).
 */
import { App, RemovalPolicy, Stack, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { FloeBus, type FloeBusProps } from "./floe-bus.js";

const app = new App();
const context = (key: string): string | undefined => {
  const v = app.node.tryGetContext(key);
  return v === undefined || v === "" ? undefined : String(v);
};

const stack = new Stack(app, context("stackName") ?? "Floe", {
  description: "Floe: a serverless, Kafka-style event bus whose log lives in S3",
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});

const removal = context("removalPolicy");
if (removal !== undefined && removal !== "retain" && removal !== "destroy") {
  throw new Error(`context removalPolicy=${removal}: expected retain or destroy`);
}
const issuer = context("jwtIssuer");
const props: FloeBusProps = {
  autoCreateTopics: context("autoCreateTopics") === "true",
  removalPolicy: removal === "destroy" ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
  jwt: issuer
    ? {
        issuer,
        audience: (context("jwtAudience") ?? "")
          .split(",")
          .map((a) => a.trim())
          .filter(Boolean),
      }
    : undefined,
};
new FloeBus(stack, "Bus", props);

// Unacknowledged findings fail `cdk synth` and `cdk deploy`.
if (context("nag") !== "false")
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
