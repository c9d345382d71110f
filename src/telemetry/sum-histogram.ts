/**
 * A Prometheus histogram whose observations are a Map lookup and three additions. prom-client's own `observe`
 * checks the labels and builds a key string on every call (three calls a task); here that happens once per label
 * set, and a scrape, which is rare, builds the exposition. The registry renders it exactly as it renders a
 * prom-client `Histogram` with the same observations (`_bucket` with cumulative counts and `le`, `_sum`, `_count`):
 * a test holds the two side by side.
 */
import type { Metric, Registry } from 'prom-client';
import { LabelIndex } from './label-index.js';

interface Series<L extends string> {
  readonly labels: Readonly<Record<L, string>>;
  /** Observations per bucket (not cumulative), in the order of the bounds. */
  readonly counts: number[];
  sum: number;
  count: number;
}

/** A value as prom-client's registry reads it off a metric. */
interface Value {
  value: number;
  labels: Record<string, string | number>;
  metricName: string;
  /** None kept: null on a bucket, undefined on the sum and count, as prom-client gives them without exemplars. */
  exemplar: null | undefined;
}

/** For the text exposition: a value's own labels (`le`), and the labels of its series apart, as prom-client has them. */
type Exported = Value & { sharedLabels: Record<string, string> };

interface Data<V> {
  name: string;
  help: string;
  type: 'histogram';
  values: V[];
  aggregator: 'sum';
}

export class SumHistogram<L extends string> {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly index: LabelIndex<L, Series<L>>;

  constructor(
    registry: Registry,
    readonly name: string,
    readonly help: string,
    labelNames: readonly L[],
    private readonly bounds: readonly number[],
  ) {
    if (labelNames.length === 0) throw new TypeError(`Histogram ${name} needs at least one label.`);
    if ((labelNames as readonly string[]).includes('le')) throw new TypeError('le is a reserved label name.');
    if (!bounds.every((b, i) => Number.isFinite(b) && (i === 0 || b > (bounds[i - 1] as number))))
      throw new TypeError(`Histogram ${name} needs finite bucket bounds in increasing order.`);
    this.index = new LabelIndex<L, Series<L>>(labelNames, (labels) => ({
      labels,
      counts: bounds.map(() => 0),
      sum: 0,
      count: 0,
    }));
    // The registry takes any object with prom-client's metric shape (name, help, type, get).
    registry.registerMetric(this as unknown as Metric<L>);
  }

  observe(labels: Record<L, string>, value: number): void {
    if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`);
    const series = this.index.seriesOf(labels);
    series.sum += value;
    series.count += 1;
    const bounds = this.bounds;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= (bounds[i] as number)) {
        (series.counts[i] as number) += 1;
        return;
      }
    }
  }

  /** What the registry renders: every series' buckets (cumulative), `+Inf`, sum and count. */
  async getForPromString(): Promise<Data<Exported>> {
    const values: Exported[] = [];
    const bucket = `${this.name}_bucket`;
    for (const series of this.index.values()) {
      const sharedLabels = series.labels as Record<string, string>;
      let cumulative = 0;
      this.bounds.forEach((le, i) => {
        cumulative += series.counts[i] as number;
        values.push({ labels: { le }, sharedLabels, value: cumulative, metricName: bucket, exemplar: null });
      });
      values.push(
        { labels: { le: '+Inf' }, sharedLabels, value: series.count, metricName: bucket, exemplar: null },
        { labels: {}, sharedLabels, value: series.sum, metricName: `${this.name}_sum`, exemplar: undefined },
        { labels: {}, sharedLabels, value: series.count, metricName: `${this.name}_count`, exemplar: undefined },
      );
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  /** The metric as JSON (`registry.getMetricsAsJSON()`): each value with all its labels. */
  async get(): Promise<Data<Value>> {
    const data = await this.getForPromString();
    const values = data.values.map(({ sharedLabels, ...value }) => ({
      ...value,
      labels: { ...value.labels, ...sharedLabels },
    }));
    return { ...data, values };
  }

  /** Forgets every observation (`registry.resetMetrics()`). */
  reset(): void {
    this.index.clear();
  }
}
