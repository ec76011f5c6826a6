/**
 * A set that remembers only its most recent entries, so ids kept for lookups (delivered chats,
 * seen deliveries) cannot grow memory without bound under sustained traffic.
 */
export class BoundedSet<T> {
  private readonly entries = new Set<T>();

  constructor(readonly capacity: number) {}

  has(value: T): boolean {
    return this.entries.has(value);
  }

  add(value: T): void {
    this.entries.delete(value); // re-adding refreshes its place among the most recent
    this.entries.add(value);
    if (this.entries.size > this.capacity) {
      // A Set iterates in insertion order: the first entry is the oldest.
      this.entries.delete(this.entries.values().next().value as T);
    }
  }

  delete(value: T): void {
    this.entries.delete(value);
  }

  /** Oldest first. */
  values(): IterableIterator<T> {
    return this.entries.values();
  }

  get size(): number {
    return this.entries.size;
  }
}
