import type { DeliveryMetrics } from "../src/subscriptions/types.js";

/** The part of Powertools' Metrics the dispatcher uses, so tests can capture what it emits. */
export interface DimensionedMetricsSink {
  addDimension(name: string, value: string): unknown;
  addMetric(name: string, unit: "Count" | "Milliseconds", value: number): unknown;
  publishStoredMetrics(): unknown;
}

type CountName = Parameters<DeliveryMetrics["count"]>[1];

/**
 * The dispatcher's DeliveryMetrics as CloudWatch embedded metric format: per subscription (the
 * dimension `Subscription`), the counts summed and the oldest undelivered record's age (the
 * largest seen) over one invocation, published as one EMF document per subscription by flush().
 * One document each, because a Powertools document carries one set of dimensions.
 */
export class EmfDeliveryMetrics implements DeliveryMetrics {
  private readonly counts = new Map<string, Map<CountName, number>>();
  private readonly ages = new Map<string, number>();

  constructor(private readonly sink: DimensionedMetricsSink) {}

  count(subscription: string, name: CountName, value: number): void {
    const byName = this.counts.get(subscription) ?? new Map<CountName, number>();
    byName.set(name, (byName.get(name) ?? 0) + value);
    this.counts.set(subscription, byName);
  }

  oldestUndeliveredAge(subscription: string, ageMs: number): void {
    this.ages.set(subscription, Math.max(ageMs, this.ages.get(subscription) ?? 0));
  }

  /** Publishes what this invocation gathered, then starts over. */
  flush(): void {
    const subscriptions = new Set([...this.counts.keys(), ...this.ages.keys()]);
    for (const subscription of subscriptions) {
      this.sink.addDimension("Subscription", subscription);
      for (const [name, value] of this.counts.get(subscription) ?? []) {
        this.sink.addMetric(name, "Count", value);
      }
      const age = this.ages.get(subscription);
      if (age !== undefined) this.sink.addMetric("OldestUndeliveredAgeMs", "Milliseconds", age);
      this.sink.publishStoredMetrics();
    }
    this.counts.clear();
    this.ages.clear();
  }
}
