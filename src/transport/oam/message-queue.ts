/**
 * The messages of one subscription, handed to an async consumer one at a time. The bus delivers through a callback
 * that must not block; this buffers what arrives until the consumer asks, and lets a timer, a death notice or an
 * abort end the wait with an error at once (queued messages are not read after a failure).
 */
export class MessageQueue<T> {
  #items: T[] = [];
  #waiter: { resolve: (item: T) => void; reject: (error: unknown) => void } | null = null;
  #failure: { error: unknown } | null = null;

  push(item: T): void {
    if (this.#failure) return;
    if (this.#waiter) {
      const waiter = this.#waiter;
      this.#waiter = null;
      waiter.resolve(item);
    } else {
      this.#items.push(item);
    }
  }

  /** Ends the queue with `error`: the pending and every later `next()` reject with it. The first failure wins. */
  fail(error: unknown): void {
    if (this.#failure) return;
    this.#failure = { error };
    this.#items = [];
    if (this.#waiter) {
      const waiter = this.#waiter;
      this.#waiter = null;
      waiter.reject(error);
    }
  }

  get failed(): boolean {
    return this.#failure !== null;
  }

  next(): Promise<T> {
    if (this.#failure) return Promise.reject(this.#failure.error);
    const item = this.#items.shift();
    if (item !== undefined) return Promise.resolve(item);
    return new Promise<T>((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }
}
