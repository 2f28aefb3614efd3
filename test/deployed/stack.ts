/**
 * The deployed stack as the test files see it: its outputs (global-setup.ts reads them from
 * `cdklocal deploy --outputs-file`) and where its API answers on LocalStack.
 */
import { inject } from "vitest";

export const STACK_NAME = "FloeDeployed";

export interface DeployedStack {
  /** The API's base URL on LocalStack: http://127.0.0.1:4566/_aws/execute-api/{apiId}/{stage} */
  apiUrl: string;
  /** The URL the stack's ApiUrl output gives (LocalStack's execute-api host name). */
  apiUrlOutput: string;
  bucketName: string;
  tableName: string;
  /** Every Lambda function of the stack, by name. */
  functions: string[];
  endpoint: string;
  region: string;
}

declare module "vitest" {
  export interface ProvidedContext {
    floeDeployed: DeployedStack;
  }
}

export function deployedStack(): DeployedStack {
  return inject("floeDeployed");
}

/** The function whose CDK id starts with Bus{Name}Function, e.g. "Maintenance". */
export function functionNamed(stack: DeployedStack, name: string): string {
  const found = stack.functions.find((f) => f.includes(`Bus${name}Function`));
  if (!found) throw new Error(`no ${name} function among ${stack.functions.join(", ")}`);
  return found;
}

/**
 * An output by its stable key (ApiUrl, BucketName, TableName) or, as CDK names a nested
 * construct's outputs, by the key that starts with the construct path (BusFrontDoorApiUrl…).
 */
function output(outputs: Record<string, string>, key: string, prefix: string): string {
  const found = outputs[key] ?? Object.entries(outputs).find(([k]) => k.startsWith(prefix))?.[1];
  if (!found) throw new Error(`stack output ${key} (or ${prefix}…) missing: ${JSON.stringify(outputs)}`);
  return found;
}

/**
 * LocalStack answers a REST API at http://127.0.0.1:4566/_aws/execute-api/{apiId}/{stage}/…; the
 * stack's output names it https://{apiId}.execute-api.{host}/{stage}/ (a host name that needs
 * LocalStack's DNS, which this machine does not use).
 */
export function localApiUrl(outputUrl: string): string {
  const url = new URL(outputUrl);
  const apiId = url.hostname.split(".")[0];
  const stage = url.pathname.split("/").filter(Boolean)[0];
  if (!apiId || !stage) throw new Error(`cannot read the API id and stage from ${outputUrl}`);
  return `http://127.0.0.1:4566/_aws/execute-api/${apiId}/${stage}`;
}

export function stackFromOutputs(
  outputs: Record<string, string>,
): Pick<DeployedStack, "apiUrl" | "apiUrlOutput" | "bucketName" | "tableName"> {
  const apiUrlOutput = output(outputs, "ApiUrl", "BusFrontDoorApiUrl");
  return {
    apiUrl: localApiUrl(apiUrlOutput),
    apiUrlOutput,
    bucketName: output(outputs, "BucketName", "BusBucketName"),
    tableName: output(outputs, "TableName", "BusTableName"),
  };
}
