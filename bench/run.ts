/**
 * Runs every benchmark under bench/, each in a process of its own, and prints a final summary table (figure, value,
 * target, met). A process each, so that what one benchmark leaves behind (its heap, its JIT state, work it closed
 * late) does not weigh on the next one's figures, and each runs as it does alone (`node --import tsx bench/<name>.ts`).
 *
 * Usage: npm run bench [-- --humaneval PATH ...]   (arguments go to every benchmark; the llm and agent benchmarks
 *        ignore the ones they do not know, the sandbox benchmark rejects them, so pass llm and agent options to
 *        bench/llm.ts and bench/agent.ts alone; --humaneval and --workers reach both sandbox and agent)
 * Exits 0 when every benchmark ran, whether or not its targets were met (missed ones print MISSED);
 * exits 1 when a benchmark could not run.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { type Figure, summaryTable, verdict } from './lib/figures.js';
import { FIGURES_FILE_ENV } from './lib/standalone.js';

const BENCHMARKS = ['sandbox', 'llm', 'overhead', 'otel', 'agent', 'workflow', 'mesh', 'distributed', 'peers'];

/** Runs bench/<name>.ts with `argv` in a child process; resolves with its figures, or rejects saying why not. */
function runInChild(name: string, argv: readonly string[], figuresFile: string): Promise<Figure[]> {
  const script = fileURLToPath(new URL(`./${name}.ts`, import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...argv], {
    stdio: 'inherit',
    env: { ...process.env, [FIGURES_FILE_ENV]: figuresFile },
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (code !== 0) {
        reject(new Error(`bench/${name}.ts exited with ${signal ?? `code ${code}`}`));
        return;
      }
      try {
        resolve(JSON.parse(readFileSync(figuresFile, 'utf8')) as Figure[]);
      } catch (err) {
        reject(new Error(`bench/${name}.ts wrote no figures: ${err instanceof Error ? err.message : String(err)}`));
      }
    });
  });
}

const argv = process.argv.slice(2);
const figures: Figure[] = [];
const failed: string[] = [];
const started = performance.now();
const dir = mkdtempSync(join(tmpdir(), 'automesh-bench-run-'));
try {
  for (const name of BENCHMARKS) {
    try {
      figures.push(...(await runInChild(name, argv, join(dir, `${name}.json`))));
    } catch (err) {
      failed.push(name);
      console.error(`\nBenchmark ${name} could not run: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

console.log(
  `\n=== summary (${BENCHMARKS.length - failed.length} of ${BENCHMARKS.length} benchmarks ran, `
    + `${((performance.now() - started) / 1000).toFixed(1)} s) ${'='.repeat(40)}`,
);
if (figures.length > 0) console.log(summaryTable(figures));
console.log(`\n${verdict(figures)}`);
if (failed.length > 0) {
  console.log(`Could not run: ${failed.join(', ')}`);
  process.exitCode = 1;
}
