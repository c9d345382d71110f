/** Option parsing shared by the benchmarks. */
import { parseArgs } from 'node:util';

/** A whole-number option >= 1, or `fallback` when absent; a bad value throws naming the option. */
export function positiveInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a whole number >= 1; got ${value}`);
  return n;
}

/**
 * Whole-number options >= 1 of one benchmark, by name with their defaults; options meant for other benchmarks are
 * ignored (every benchmark gets the whole command line).
 */
export function positiveIntOptions<Name extends string>(
  argv: readonly string[],
  defaults: Record<Name, number>,
): Record<Name, number> {
  const names = Object.keys(defaults) as Name[];
  const { values } = parseArgs({
    args: [...argv],
    options: Object.fromEntries(names.map((name) => [name, { type: 'string' as const }])),
    strict: false,
    allowPositionals: true,
  });
  return Object.fromEntries(
    names.map((name) => {
      const value = values[name];
      return [name, positiveInt(name, typeof value === 'string' ? value : undefined, defaults[name])];
    }),
  ) as Record<Name, number>;
}
