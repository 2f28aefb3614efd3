import { describe, expect, it } from "vitest";
import { METRICS_NAMESPACE } from "../../cdk/observability.js";
import { Floe } from "../../src/client/floe.js";
import { cloudwatch } from "./aws.js";
import { deployedStack } from "./stack.js";

/**
 * The metrics the stack's dashboard charts (cdk/observability.ts), found in CloudWatch after real
 * traffic through the deployed API: the handlers print them in the embedded metric format, and
 * CloudWatch Logs' extraction of those lines is done on LocalStack by the floe-host executor
 * (test/support/localstack/README.md).
 */
const stack = deployedStack();
const floe = new Floe({ url: stack.apiUrl });
const EXPECTED = ["RecordsIn", "RecordsOut", "BytesIn", "BytesOut", "ConsumerLag"];
const BOUND_MS = 120_000;

interface Metric {
  Namespace: string;
  MetricName: string;
  Dimensions?: { Name: string; Value: string }[];
}

async function listMetrics(): Promise<Metric[]> {
  const metrics: Metric[] = [];
  let NextToken: string | undefined;
  do {
    const page = await cloudwatch<{ Metrics?: Metric[]; NextToken?: string }>("ListMetrics", {
      Namespace: METRICS_NAMESPACE,
      NextToken,
    });
    metrics.push(...(page.Metrics ?? []));
    NextToken = page.NextToken;
  } while (NextToken);
  return metrics;
}

/** The Sum of one metric over the last hour, across every dimension set it was stored with. */
async function sumOf(name: string, metrics: Metric[]): Promise<number> {
  const series = metrics.filter((m) => m.MetricName === name);
  const end = Math.ceil(Date.now() / 1000) + 60;
  const answer = await cloudwatch<{ MetricDataResults: { Values?: number[] }[] }>("GetMetricData", {
    StartTime: end - 3600,
    EndTime: end,
    MetricDataQueries: series.map((m, i) => ({
      Id: `m${i}`,
      MetricStat: { Metric: m, Period: 60, Stat: "Sum" },
      ReturnData: true,
    })),
  });
  return answer.MetricDataResults.flatMap((r) => r.Values ?? []).reduce((a, b) => a + b, 0);
}

describe("metrics of the deployed stack in CloudWatch", () => {
  it("has RecordsIn, RecordsOut, BytesIn, BytesOut and ConsumerLag after produce, consume and commit", async () => {
    const topic = `metrics-${Date.now().toString(36)}`;
    await floe.admin().createTopic({ topic, numPartitions: 1 });
    const values = Array.from({ length: 25 }, (_, i) => `metric record ${i}`);
    await floe.producer().send({ topic, messages: values.map((value) => ({ value })) });
    const page = await floe.reader().fetch({ topic, partition: 0, offset: 0 });
    expect(page.records).toHaveLength(values.length);
    // A committed offset behind the high-water mark: a consumer lag of 5.
    const consumer = floe.consumer({ groupId: `g-${topic}`, fromBeginning: true });
    await consumer.commitOffsets([{ topic, partition: 0, offset: String(values.length - 5) }]);

    let metrics: Metric[] = [];
    const giveUp = Date.now() + BOUND_MS;
    for (;;) {
      metrics = await listMetrics();
      const names = new Set(metrics.map((m) => m.MetricName));
      if (EXPECTED.every((n) => names.has(n)) || Date.now() > giveUp) break;
      await new Promise((r) => setTimeout(r, 2_000));
    }
    expect([...new Set(metrics.map((m) => m.MetricName))].filter((n) => EXPECTED.includes(n)).sort()).toEqual(
      [...EXPECTED].sort(),
    );
    expect(await sumOf("RecordsIn", metrics)).toBeGreaterThanOrEqual(values.length);
    expect(await sumOf("RecordsOut", metrics)).toBeGreaterThanOrEqual(values.length);
    expect(await sumOf("BytesIn", metrics)).toBeGreaterThan(0);
    expect(await sumOf("BytesOut", metrics)).toBeGreaterThan(0);
  });
});
