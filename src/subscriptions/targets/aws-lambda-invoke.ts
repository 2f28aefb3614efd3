import { InvokeCommand, LambdaClient, type LambdaClientConfig } from "@aws-sdk/client-lambda";
import type { LambdaInvoke } from "./lambda-target.js";

/**
 * A LambdaInvoke over the AWS SDK's LambdaClient: a synchronous (RequestResponse) Invoke, aborted
 * with the delivery's signal. The only module that loads @aws-sdk/client-lambda, so a dispatcher
 * with no Lambda target never does. Takes a client, or the config to make one with (region,
 * endpoint, credentials: the SDK's own defaults fill what it leaves out), except that a client it
 * makes tries each invocation once (`maxAttempts` 1, where the SDK's default is 3): retrying is the
 * dispatcher's, with its backoff, its `retried` count and `maximumRetryAttempts` counting every
 * invocation as Lambda's setting does, not up to three invocations per counted attempt.
 */
export function awsLambdaInvoke(client: LambdaClient | LambdaClientConfig): LambdaInvoke {
  const lambda =
    client instanceof LambdaClient
      ? client
      : new LambdaClient({ ...client, maxAttempts: client.maxAttempts ?? 1 });
  return async (functionName, payload, signal) => {
    const output = await lambda.send(
      new InvokeCommand({ FunctionName: functionName, InvocationType: "RequestResponse", Payload: payload }),
      { abortSignal: signal },
    );
    return {
      // Lambda answers 200 to a RequestResponse invocation; the SDK reports it as StatusCode.
      statusCode: output.StatusCode ?? 200,
      functionError: output.FunctionError,
      payload: output.Payload ?? new Uint8Array(),
    };
  };
}
