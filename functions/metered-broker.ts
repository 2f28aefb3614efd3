import { AsyncLocalStorage } from "node:async_hooks";
import type { ApiHandler } from "../src/api/api-handler.js";
import { type RequestMetricPoint, RequestTally } from "../src/api/request-metrics.js";
import type { AppendRequest } from "../src/broker/append.js";
import { Broker } from "../src/broker/broker.js";
import type { FetchManyOptions, FetchManyPartition } from "../src/broker/fetch-many.js";
import type { RawFetchRequest, RawFetchResult } from "../src/broker/read-raw.js";
import type { FetchRequest, FetchResult, RecordOffset } from "../src/broker/types.js";

/** The part of Powertools' Metrics the edge uses, so tests can capture what it emits. */
export interface MetricsSink {
  addMetric(name: string, unit: RequestMetricPoint["unit"], value: number): unknown;
  publishStoredMetrics(): unknown;
}

/**
 * The tally of the invocation in progress. Lambda runs one invocation per instance at a time, but
 * an async context keeps each invocation's figures its own wherever the handler is called from
 * (tests invoke handlers concurrently).
 */
const tallies = new AsyncLocalStorage<RequestTally>();

/**
 * The Broker of a Lambda function, telling the invocation's tally what each produce and fetch
 * did once the broker has answered (src/api/request-metrics.ts defines the figures). The broker
 * itself stays free of metrics; `floe dev` uses the plain Broker.
 */
export class MeteredBroker extends Broker {
  override async produce(request: AppendRequest): Promise<RecordOffset[]> {
    const offsets = await super.produce(request);
    tallies.getStore()?.produced(request);
    return offsets;
  }

  override async fetch(request: FetchRequest): Promise<FetchResult> {
    const result = await super.fetch(request);
    tallies.getStore()?.fetched(result);
    return result;
  }

  override async fetchRaw(request: RawFetchRequest): Promise<RawFetchResult> {
    const result = await super.fetchRaw(request);
    tallies.getStore()?.fetched(result);
    return result;
  }

  override async fetchMany(partitions: FetchManyPartition[], options: FetchManyOptions = {}) {
    const outcomes = await super.fetchMany(partitions, options);
    tallies.getStore()?.fetchedMany(outcomes);
    return outcomes;
  }
}

/**
 * `handler` with each invocation's figures published as one CloudWatch embedded-metric-format
 * document on stdout once it has answered; an invocation that neither produced nor fetched
 * publishes nothing.
 */
export function withRequestMetrics(handler: ApiHandler, metrics: MetricsSink): ApiHandler {
  return async (event, context, caller) => {
    const tally = new RequestTally();
    const result = await tallies.run(tally, () => handler(event, context, caller));
    const points = tally.points();
    if (points.length > 0) {
      for (const point of points) metrics.addMetric(point.name, point.unit, point.value);
      metrics.publishStoredMetrics();
    }
    return result;
  };
}
