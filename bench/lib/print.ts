/** Printing helpers shared by the benchmarks. */
import { loadavg } from 'node:os';

export function heading(text: string): void {
  console.log(`\n=== ${text} ${'='.repeat(Math.max(0, 96 - text.length))}`);
}

/** The 1, 5 and 15 minute load averages, for judging how noisy a run was. */
export function loadLine(): string {
  return loadavg()
    .map((v) => v.toFixed(2))
    .join(', ');
}
