/**
 * A Prometheus counter whose increments are one Map update: prom-client's own `inc` checks and hashes the labels
 * on every call (about a microsecond each, a dozen calls a task), while a scrape, which reads the sums through the
 * counter's `collect`, is rare.
 */
import { Counter, type Registry } from 'prom-client';
import { LabelIndex } from './label-index.js';

export interface Sum<L extends string> {
  readonly labels: Readonly<Record<L, string>>;
  value: number;
}

export class SumCounter<L extends string> {
  private readonly index: LabelIndex<L, Sum<L>>;

  constructor(registry: Registry, name: string, help: string, labelNames: readonly L[]) {
    if (labelNames.length === 0) throw new TypeError(`Counter ${name} needs at least one label.`);
    const index = new LabelIndex<L, Sum<L>>(labelNames, (labels) => ({ labels, value: 0 }));
    this.index = index;
    new Counter<L>({
      name,
      help,
      labelNames: [...labelNames],
      registers: [registry],
      collect() {
        this.reset();
        for (const { labels, value } of index.values()) this.inc(labels as Record<L, string>, value);
      },
    });
  }

  /** Adds `by` (default 1) to the sum of these label values. */
  inc(labels: Record<L, string>, by = 1): void {
    this.index.seriesOf(labels).value += by;
  }

  /** Every sum so far, with its label values. */
  values(): readonly Sum<L>[] {
    return this.index.values();
  }
}
