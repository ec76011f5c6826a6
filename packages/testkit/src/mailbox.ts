/** Collects what arrives and lets a test wait for the next item that matches. */
export class Mailbox<T> {
  readonly received: T[] = [];
  private cursor = 0;
  private waiters: Array<{ match: (item: T) => boolean; resolve: (item: T) => void }> = [];

  push(item: T): void {
    this.received.push(item);
    this.waiters = this.waiters.filter((waiter) => {
      if (!waiter.match(item)) return true;
      waiter.resolve(item);
      return false;
    });
  }

  /**
   * Resolves with the first item after those already taken that matches; items skipped over
   * are taken too. Rejects after `timeoutMs`, listing what did arrive.
   */
  next(match: (item: T) => boolean = () => true, timeoutMs = 5000, what = 'item'): Promise<T> {
    while (this.cursor < this.received.length) {
      const item = this.received[this.cursor++]!;
      if (match(item)) return Promise.resolve(item);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        const seen = this.received.slice(-5).map((i) => JSON.stringify(i)).join('\n  ');
        reject(new Error(`no matching ${what} within ${timeoutMs} ms; last received:\n  ${seen || '(nothing)'}`));
      }, timeoutMs);
      const waiter = {
        match,
        resolve: (item: T) => {
          clearTimeout(timer);
          this.cursor = this.received.length;
          resolve(item);
        },
      };
      this.waiters.push(waiter);
    });
  }

  /** Resolves when no item has arrived for `quietMs` (for asserting that nothing more comes). */
  async settle(quietMs = 300): Promise<T[]> {
    let count = -1;
    while (count !== this.received.length) {
      count = this.received.length;
      await new Promise((r) => setTimeout(r, quietMs));
    }
    return this.received;
  }
}
