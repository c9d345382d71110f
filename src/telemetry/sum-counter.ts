/**
 * A Prometheus counter whose increments are one Map update: prom-client's own `inc` checks and hashes the labels
 * on every call (about a microsecond each, a dozen calls a task), while a scrape, which reads the sums through the
 * counter's `collect`, is rare.
 */
import { Counter, type Registry } from 'prom-client';

export interface Sum<L extends string> {
  readonly labels: Readonly<Record<L, string>>;
  value: number;
}

type Level<L extends string> = Map<string, Level<L> | Sum<L>>;

export class SumCounter<L extends string> {
  /** One map per label, in label order, the sums at the last level: no key string is built per increment. */
  private readonly root: Level<L> = new Map();
  private readonly sums: Sum<L>[] = [];

  constructor(
    registry: Registry,
    name: string,
    help: string,
    private readonly labelNames: readonly L[],
  ) {
    if (labelNames.length === 0) throw new TypeError(`Counter ${name} needs at least one label.`);
    const sums = this.sums;
    new Counter<L>({
      name,
      help,
      labelNames: [...labelNames],
      registers: [registry],
      collect() {
        this.reset();
        for (const { labels, value } of sums) this.inc(labels as Record<L, string>, value);
      },
    });
  }

  /** Adds `by` (default 1) to the sum of these label values. */
  inc(labels: Record<L, string>, by = 1): void {
    const names = this.labelNames;
    let level = this.root;
    const last = names.length - 1;
    for (let i = 0; i < last; i++) {
      const value = labels[names[i] as L];
      let next = level.get(value) as Level<L> | undefined;
      if (!next) {
        next = new Map();
        level.set(value, next);
      }
      level = next;
    }
    const key = labels[names[last] as L];
    const sum = level.get(key) as Sum<L> | undefined;
    if (sum) {
      sum.value += by;
      return;
    }
    const created: Sum<L> = { labels: { ...labels }, value: by };
    level.set(key, created);
    this.sums.push(created);
  }

  /** Every sum so far, with its label values. */
  values(): readonly Sum<L>[] {
    return this.sums;
  }
}
