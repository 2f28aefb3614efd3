/**
 * A binary heap of the integers 0..capacity-1 whose priorities live outside it (a member's load)
 * and change in place: `update` restores the order after one changed, in O(log n). The assignors
 * use it to find the least or most loaded member without scanning them all.
 */
export class IndexedHeap {
  private readonly items: number[] = [];
  /** Where each id sits in `items`, -1 when absent. */
  private readonly position: Int32Array;

  /**
   * `before(a, b)`: a comes out first; a strict total order, for a deterministic result. Heaps whose
   * ids never overlap may share one `positions` array (filled with -1), so that many small heaps
   * over a large id range cost their size, not the range each.
   */
  constructor(
    capacity: number,
    private readonly before: (a: number, b: number) => boolean,
    positions?: Int32Array,
  ) {
    this.position = positions ?? new Int32Array(capacity).fill(-1);
  }

  get size(): number {
    return this.items.length;
  }

  peek(): number | undefined {
    return this.items[0];
  }

  push(id: number): void {
    this.position[id] = this.items.length;
    this.items.push(id);
    this.up(this.items.length - 1);
  }

  pop(): number | undefined {
    const top = this.items[0];
    if (top === undefined) return undefined;
    const last = this.items.pop()!;
    this.position[top] = -1;
    if (last !== top) {
      this.items[0] = last;
      this.position[last] = 0;
      this.down(0);
    }
    return top;
  }

  /** Restores the order after the priority of `id` changed; a no-op for an id not in the heap. */
  update(id: number): void {
    const i = this.position[id];
    if (i < 0) return;
    this.up(i);
    this.down(this.position[id]);
  }

  private up(i: number): void {
    const id = this.items[i];
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = this.items[parent];
      if (!this.before(id, p)) break;
      this.items[i] = p;
      this.position[p] = i;
      i = parent;
    }
    this.items[i] = id;
    this.position[id] = i;
  }

  private down(i: number): void {
    const n = this.items.length;
    const id = this.items[i];
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && this.before(this.items[right], this.items[left]) ? right : left;
      const c = this.items[child];
      if (!this.before(c, id)) break;
      this.items[i] = c;
      this.position[c] = i;
      i = child;
    }
    this.items[i] = id;
    this.position[id] = i;
  }
}
