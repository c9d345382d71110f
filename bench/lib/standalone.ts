/**
 * Running one benchmark file on its own (`node --import tsx bench/<name>.ts`), as bench/run.ts runs each of them, in
 * a process of its own.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Figure, summaryTable, verdict } from './figures.js';
import { heading } from './print.js';

/** Where bench/run.ts asks a benchmark process to write its figures (JSON). */
export const FIGURES_FILE_ENV = 'AUTOMESH_BENCH_FIGURES';

/**
 * When `moduleUrl` is the script node was started with: runs the benchmark with the command line's options and
 * prints its summary (and writes its figures where {@link FIGURES_FILE_ENV} says, when set); a benchmark that could
 * not run sets exit code 1.
 */
export async function runIfMain(
  moduleUrl: string,
  name: string,
  run: (argv: string[]) => Promise<Figure[]>,
): Promise<void> {
  if (!process.argv[1] || moduleUrl !== pathToFileURL(resolve(process.argv[1])).href) return;
  let figures: Figure[];
  try {
    figures = await run(process.argv.slice(2));
  } catch (err) {
    console.error(
      `\nThe ${name} benchmark could not run: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
    );
    process.exitCode = 1;
    return;
  }
  const file = process.env[FIGURES_FILE_ENV];
  if (file) writeFileSync(file, JSON.stringify(figures));
  heading(`${name} summary`);
  console.log(summaryTable(figures));
  console.log(`\n${verdict(figures)}`);
}
