/** How much one slice of maintenance may do: it stops at whichever runs out first. */
export interface MaintenanceBudget {
  /** Wall time for the slice, e.g. a Lambda invocation's remaining time less a margin. */
  timeMs?: number;
  /**
   * Storage writes that do the work (object puts and deletes, index transactions). Taking and
   * releasing leases is not counted, so even a budget of one op lets a slice finish one step.
   */
  ops?: number;
}

/**
 * The slice's allowance. Work is checked against it only between steps, so a step once begun (a
 * merge, a retention commit) always finishes: a slice may overrun by one step, never leave one half
 * done on purpose.
 */
export class Budget {
  private used = 0;
  private readonly deadline: number;
  private readonly limit: number;

  constructor(
    budget: MaintenanceBudget,
    private readonly clock: () => number,
  ) {
    this.deadline = budget.timeMs === undefined ? Number.POSITIVE_INFINITY : clock() + budget.timeMs;
    this.limit = budget.ops ?? Number.POSITIVE_INFINITY;
  }

  charge(ops = 1): void {
    this.used += ops;
  }

  get ops(): number {
    return this.used;
  }

  get exhausted(): boolean {
    return this.used >= this.limit || this.clock() >= this.deadline;
  }
}
