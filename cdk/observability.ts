/**
 * Alarms and a dashboard for the bus: Lambda errors, throttles and produce latency, DynamoDB
 * throttling, and the bus's own metrics (namespace Floe, published through Powertools).
 */
import { Duration } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as cwActions from "aws-cdk-lib/aws-cloudwatch-actions";
import * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import type * as sns from "aws-cdk-lib/aws-sns";
import { Construct } from "constructs";
import { capitalize } from "./front-door.js";
import type { FloeFunctionName } from "./functions.js";

/** POWERTOOLS_METRICS_NAMESPACE of every function. */
export const METRICS_NAMESPACE = "Floe";

/**
 * Custom metric names the dashboard charts. It searches by name across any dimensions, so emitters
 * may add their own (service, topic); these names are the contract.
 */
export const FLOE_METRICS = {
  recordsIn: { name: "RecordsIn", statistic: "Sum", label: "records in (produced)" },
  recordsOut: { name: "RecordsOut", statistic: "Sum", label: "records out (fetched)" },
  bytesIn: { name: "BytesIn", statistic: "Sum", label: "bytes in" },
  bytesOut: { name: "BytesOut", statistic: "Sum", label: "bytes out" },
  consumerLag: { name: "ConsumerLag", statistic: "Maximum", label: "consumer lag (records, max)" },
  // Published by maintenance at the end of each full cycle over the bucket.
  objectCount: { name: "Objects", statistic: "Maximum", label: "segment objects" },
  objectBytes: { name: "ObjectBytes", statistic: "Maximum", label: "bytes in segment objects" },
  merges: { name: "Merges", statistic: "Sum", label: "compaction merges" },
  objectsDeleted: { name: "ObjectsDeleted", statistic: "Sum", label: "objects garbage-collected" },
  retentionSegmentsDeleted: {
    name: "RetentionSegmentsDeleted",
    statistic: "Sum",
    label: "segments dropped by retention",
  },
  // Published by the subscription dispatcher, per subscription (dimension Subscription).
  recordsDelivered: { name: "RecordsDelivered", statistic: "Sum", label: "records delivered" },
  recordsFailed: { name: "RecordsFailed", statistic: "Sum", label: "records sent to the failure topic" },
  deliveryRetries: { name: "DeliveryRetries", statistic: "Sum", label: "delivery retries" },
  recordsFiltered: { name: "RecordsFiltered", statistic: "Sum", label: "records filtered out" },
  oldestUndeliveredAge: {
    name: "OldestUndeliveredAgeMs",
    statistic: "Maximum",
    label: "oldest undelivered record age (ms, max)",
  },
} as const;

/** Operations the functions issue against the table (TransactWriteItems carries the conditional writes). */
const TABLE_OPERATIONS = [
  dynamodb.Operation.GET_ITEM,
  dynamodb.Operation.QUERY,
  dynamodb.Operation.PUT_ITEM,
  dynamodb.Operation.UPDATE_ITEM,
  dynamodb.Operation.DELETE_ITEM,
  dynamodb.Operation.TRANSACT_WRITE_ITEMS,
];

export interface ObservabilityProps {
  functions: Partial<Record<FloeFunctionName, lambda.Function>>;
  table: dynamodb.Table;
  /** Alarm when produce's p99 duration stays above this for 15 minutes. */
  produceP99Threshold: Duration;
  /** Where alarms (and their recoveries) are sent; none: alarms only show in CloudWatch. */
  alarmTopic?: sns.ITopic;
  dashboardName?: string;
}

export class Observability extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly dashboard: cloudwatch.Dashboard;
  private readonly alarmTopic?: sns.ITopic;

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    this.alarmTopic = props.alarmTopic;
    const fns = Object.entries(props.functions) as [FloeFunctionName, lambda.Function][];
    const period = Duration.minutes(5);

    for (const [name, fn] of fns) {
      this.alarm(`${capitalize(name)}Errors`, {
        metric: fn.metricErrors({ period, statistic: "Sum" }),
        threshold: 1,
        evaluationPeriods: 1,
        alarmDescription: `The Floe ${name} function failed (unhandled error or timeout) in the last 5 minutes.`,
      });
      this.alarm(`${capitalize(name)}Throttles`, {
        metric: fn.metricThrottles({ period, statistic: "Sum" }),
        threshold: 1,
        evaluationPeriods: 1,
        alarmDescription: `The Floe ${name} function was throttled: raise its (reserved) concurrency or the account limit.`,
      });
    }
    const produce = props.functions.produce;
    if (produce) {
      this.alarm("ProduceLatencyP99", {
        metric: produce.metricDuration({ period, statistic: "p99" }),
        threshold: props.produceP99Threshold.toMilliseconds(),
        evaluationPeriods: 3,
        alarmDescription: `Produce p99 duration above ${props.produceP99Threshold.toMilliseconds()} ms for 15 minutes: producers wait on S3 PUTs or commit retries.`,
      });
    }
    this.alarm("TableThrottles", {
      metric: props.table.metricThrottledRequestsForOperations({
        operations: TABLE_OPERATIONS,
        period,
      }),
      threshold: 1,
      evaluationPeriods: 1,
      alarmDescription: "DynamoDB throttled requests on the Floe metadata table (a hot partition head?).",
    });

    this.dashboard = new cloudwatch.Dashboard(this, "Dashboard", {
      dashboardName: props.dashboardName,
      defaultInterval: Duration.hours(3),
    });
    const apiFns = fns.filter(([name]) => name === "produce" || name === "fetch");
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: "Invocations",
        left: apiFns.map(([name, fn]) => fn.metricInvocations({ period: Duration.minutes(1), label: name })),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: "Duration p50 / p99 (ms)",
        left: apiFns.flatMap(([name, fn]) => [
          fn.metricDuration({ period: Duration.minutes(1), statistic: "p50", label: `${name} p50` }),
          fn.metricDuration({ period: Duration.minutes(1), statistic: "p99", label: `${name} p99` }),
        ]),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: "Errors and throttles",
        left: fns.map(([name, fn]) =>
          fn.metricErrors({ period: Duration.minutes(1), label: `${name} errors` }),
        ),
        right: fns.map(([name, fn]) =>
          fn.metricThrottles({ period: Duration.minutes(1), label: `${name} throttles` }),
        ),
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: "Records in / out",
        left: [searchMetric(FLOE_METRICS.recordsIn), searchMetric(FLOE_METRICS.recordsOut)],
        width: 6,
      }),
      new cloudwatch.GraphWidget({
        title: "Bytes in / out",
        left: [searchMetric(FLOE_METRICS.bytesIn), searchMetric(FLOE_METRICS.bytesOut)],
        width: 6,
      }),
      new cloudwatch.GraphWidget({
        title: "Consumer lag",
        left: [searchMetric(FLOE_METRICS.consumerLag)],
        width: 6,
      }),
      new cloudwatch.GraphWidget({
        title: "Segment objects",
        left: [searchMetric(FLOE_METRICS.objectCount)],
        right: [searchMetric(FLOE_METRICS.objectBytes)],
        width: 6,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: "Metadata table: throttled requests",
        left: [
          props.table.metricThrottledRequestsForOperations({
            operations: TABLE_OPERATIONS,
            period: Duration.minutes(1),
          }),
        ],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: "Maintenance",
        left: [
          searchMetric(FLOE_METRICS.merges),
          searchMetric(FLOE_METRICS.objectsDeleted),
          searchMetric(FLOE_METRICS.retentionSegmentsDeleted),
        ],
        width: 12,
      }),
    );
    if (props.functions.dispatcher) {
      this.dashboard.addWidgets(
        new cloudwatch.GraphWidget({
          title: "Subscriptions: records",
          left: [
            searchMetric(FLOE_METRICS.recordsDelivered),
            searchMetric(FLOE_METRICS.recordsFailed),
            searchMetric(FLOE_METRICS.recordsFiltered),
          ],
          right: [searchMetric(FLOE_METRICS.deliveryRetries)],
          width: 12,
        }),
        new cloudwatch.GraphWidget({
          title: "Subscriptions: oldest undelivered record (ms)",
          left: [searchMetric(FLOE_METRICS.oldestUndeliveredAge)],
          width: 12,
        }),
      );
    }
    this.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: "Alarms", alarms: this.alarms, width: 24 }),
    );
  }

  private alarm(id: string, props: Omit<cloudwatch.AlarmProps, "treatMissingData" | "comparisonOperator">) {
    const alarm = new cloudwatch.Alarm(this, id, {
      ...props,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      // No traffic is not an incident.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (this.alarmTopic) {
      alarm.addAlarmAction(new cwActions.SnsAction(this.alarmTopic));
      alarm.addOkAction(new cwActions.SnsAction(this.alarmTopic));
    }
    this.alarms.push(alarm);
    return alarm;
  }
}

function searchMetric(m: { name: string; statistic: string; label: string }): cloudwatch.MathExpression {
  return new cloudwatch.MathExpression({
    expression: `SEARCH('Namespace="${METRICS_NAMESPACE}" MetricName="${m.name}"', '${m.statistic}', 60)`,
    label: m.label,
    period: Duration.minutes(1),
    usingMetrics: {},
  });
}
