/** A benchmark's headline numbers, as shown in the final summary table. */
import { table } from './stats.js';

export interface Figure {
  /** Which benchmark measured it (e.g. `sandbox`). */
  benchmark: string;
  /** What was measured, e.g. `warm overhead, median`. */
  name: string;
  /** The measured value, formatted with its unit. */
  value: string;
  /** The target, formatted (e.g. `<= 3 ms`), or `-` when the figure is informational. */
  target: string;
  /** Whether the target was met; `null` for an informational figure. */
  met: boolean | null;
}

export function metLabel(met: boolean | null): string {
  if (met === null) return 'n/a';
  return met ? 'yes' : 'no (MISSED)';
}

export function summaryTable(figures: readonly Figure[]): string {
  return table(
    ['benchmark', 'figure', 'value', 'target', 'met'],
    figures.map((f) => [f.benchmark, f.name, f.value, f.target, metLabel(f.met)]),
  );
}

/** Lines naming every missed target, or a line saying all were met. */
export function verdict(figures: readonly Figure[]): string {
  const targeted = figures.filter((f) => f.met !== null);
  const missed = targeted.filter((f) => f.met === false);
  if (targeted.length === 0) return 'No targets were measured.';
  if (missed.length === 0) return `All ${targeted.length} targets met.`;
  return [
    `MISSED ${missed.length} of ${targeted.length} targets:`,
    ...missed.map((f) => `  MISSED ${f.benchmark}: ${f.name} = ${f.value} (target ${f.target})`),
  ].join('\n');
}
