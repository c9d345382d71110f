/** Option parsing shared by the benchmarks. */

/** A whole-number option >= 1, or `fallback` when absent; a bad value throws naming the option. */
export function positiveInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a whole number >= 1; got ${value}`);
  return n;
}
