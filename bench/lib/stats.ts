/** Small statistics and formatting helpers shared by the benchmarks. */

/** The q-quantile (0..1) of `values`, by linear interpolation between closest ranks (numpy's default). */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const low = sorted[lo] as number;
  const high = sorted[hi] as number;
  return low + (high - low) * (pos - lo);
}

export function mean(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  return values.reduce((sum, v) => sum + v, 0) / values.length;
}

export interface Summary {
  n: number;
  median: number;
  p95: number;
  p99: number;
  mean: number;
  min: number;
  max: number;
}

export function summarize(values: readonly number[]): Summary {
  return {
    n: values.length,
    median: quantile(values, 0.5),
    p95: quantile(values, 0.95),
    p99: quantile(values, 0.99),
    mean: mean(values),
    min: Math.min(...values),
    max: Math.max(...values),
  };
}

/** Milliseconds with a precision that suits their size. */
export function ms(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (value < 10) return `${value.toFixed(3)} ms`;
  if (value < 1000) return `${value.toFixed(1)} ms`;
  return `${value.toFixed(0)} ms`;
}

export function describe(summary: Summary): string {
  return (
    `median ${ms(summary.median)}, p95 ${ms(summary.p95)}, p99 ${ms(summary.p99)}, mean ${ms(summary.mean)}, `
    + `min ${ms(summary.min)}, max ${ms(summary.max)} (n=${summary.n})`
  );
}

/** Prints rows as an aligned text table with a header rule. */
export function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
