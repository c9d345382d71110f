/**
 * Runs every benchmark under bench/ and prints a final summary table (figure, value, target, met).
 *
 * Usage: npm run bench [-- --humaneval PATH ...]   (arguments go to every benchmark; the llm and agent benchmarks
 *        ignore the ones they do not know, the sandbox benchmark rejects them, so pass llm and agent options to
 *        bench/llm.ts and bench/agent.ts alone; --humaneval and --workers reach both sandbox and agent)
 * Exits 0 when every benchmark ran, whether or not its targets were met (missed ones print MISSED);
 * exits 1 when a benchmark could not run.
 */
import { performance } from 'node:perf_hooks';
import { parseAgentArgs, runAgentBenchmark } from './agent.js';
import { parseDistributedArgs, runDistributedBenchmark } from './distributed.js';
import { type Figure, summaryTable, verdict } from './lib/figures.js';
import { parseLlmArgs, runLlmBenchmark } from './llm.js';
import { parseMeshArgs, runMeshBenchmark } from './mesh.js';
import { parseOtelArgs, runOtelBenchmark } from './otel.js';
import { parseOverheadArgs, runOverheadBenchmark } from './overhead.js';
import { parsePeersArgs, runPeersBenchmark } from './peers.js';
import { parseSandboxArgs, runSandboxBenchmark } from './sandbox.js';
import { parseWorkflowArgs, runWorkflowBenchmark } from './workflow.js';

interface Benchmark {
  name: string;
  run: (argv: readonly string[]) => Promise<Figure[]>;
}

const benchmarks: Benchmark[] = [
  { name: 'sandbox', run: (argv) => runSandboxBenchmark(parseSandboxArgs(argv)) },
  { name: 'llm', run: (argv) => runLlmBenchmark(parseLlmArgs(argv)) },
  { name: 'overhead', run: (argv) => runOverheadBenchmark(parseOverheadArgs(argv)) },
  { name: 'otel', run: (argv) => runOtelBenchmark(parseOtelArgs(argv)) },
  { name: 'agent', run: (argv) => runAgentBenchmark(parseAgentArgs(argv)) },
  { name: 'workflow', run: (argv) => runWorkflowBenchmark(parseWorkflowArgs(argv)) },
  { name: 'mesh', run: (argv) => runMeshBenchmark(parseMeshArgs(argv)) },
  { name: 'distributed', run: (argv) => runDistributedBenchmark(parseDistributedArgs(argv)) },
  { name: 'peers', run: (argv) => runPeersBenchmark(parsePeersArgs(argv)) },
];

const argv = process.argv.slice(2);
const figures: Figure[] = [];
const failed: string[] = [];
const started = performance.now();
for (const benchmark of benchmarks) {
  try {
    figures.push(...(await benchmark.run(argv)));
  } catch (err) {
    failed.push(benchmark.name);
    console.error(
      `\nBenchmark ${benchmark.name} could not run: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
    );
  }
}

console.log(
  `\n=== summary (${benchmarks.length - failed.length} of ${benchmarks.length} benchmarks ran, `
    + `${((performance.now() - started) / 1000).toFixed(1)} s) ${'='.repeat(40)}`,
);
if (figures.length > 0) console.log(summaryTable(figures));
console.log(`\n${verdict(figures)}`);
if (failed.length > 0) {
  console.log(`Could not run: ${failed.join(', ')}`);
  process.exitCode = 1;
}
