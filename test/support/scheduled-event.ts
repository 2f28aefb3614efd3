import { randomUUID } from "node:crypto";
import type { ScheduledEvent } from "aws-lambda";

/** The event an EventBridge schedule rule invokes a function with (the dispatcher's one-minute wake-up). */
export function scheduledEvent(): ScheduledEvent {
  return {
    version: "0",
    id: randomUUID(),
    "detail-type": "Scheduled Event",
    source: "aws.events",
    account: "000000000000",
    time: new Date().toISOString(),
    region: "us-east-1",
    resources: ["arn:aws:events:us-east-1:000000000000:rule/floe-dispatch"],
    detail: {},
  };
}
