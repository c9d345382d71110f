// Starts a mesh with the agents of agents.ts, runs one task and a small workflow, and prints the results.
// Run: npm start   (after npm install, with a provider configured: cp .env.example .env, then edit .env)
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Mesh } from 'automesh';
import { agents } from './agents.js';

// Settings come from .env in the working folder and results go to ./logs: make that this project's folder, so
// `npx tsx path/to/main.ts` from anywhere uses this project's .env and logs.
process.chdir(dirname(fileURLToPath(import.meta.url)));

const mesh = new Mesh({ mode: 'autonomous' }); // settings from .env and the environment
for (const entry of agents) {
  if ('agent' in entry) mesh.add(entry.agent, { tools: entry.tools });
  else mesh.add(entry);
}
await mesh.start();

const show = (value: unknown): string => JSON.stringify(value);

try {
  // One task, straight to one agent. Run it twice: the second time the registered code answers, no model call.
  const calc = await mesh
    .getAgent('calculator')!
    .executeTask({ task: 'Calculate the sum of the squares of the numbers 1 to 10' });
  console.log(
    `calculator: ${calc.status} -> ${calc.status === 'success' ? show(calc.output) : calc.error}`
      + `${calc.cached ? ' (cached, no model call)' : ''}`,
  );

  // A small workflow: the analyst totals revenue per region, then the calculator reads that step's output
  // from its context. { fresh: true } runs every step; without it, running the same id again resumes.
  const results = await mesh.workflow(
    'sales-report',
    [
      { id: 'totals', agent: 'analyst', task: 'Total revenue per region, largest first, as [{ region, revenue }]' },
      {
        id: 'shares',
        agent: 'calculator',
        task: "Compute each region's share of the total revenue in percent, rounded to one decimal, from context.totals.output, as { region: percent }",
        dependsOn: ['totals'],
      },
    ],
    { fresh: true },
  );
  for (const r of results) {
    console.log(`${r.stepId}: ${r.status} -> ${r.status === 'success' ? show(r.output) : r.error}`);
  }
  const s = results.summary;
  console.log(
    `summary: ${s.succeeded}/${s.steps} steps succeeded, ${s.tokens.total + calc.tokens.total} tokens, `
      + `cost ${s.costUsd === null || calc.costUsd === null ? 'unpriced' : `$${(s.costUsd + calc.costUsd).toFixed(6)}`}`,
  );
  if (calc.status !== 'success' || s.succeeded !== s.steps) process.exitCode = 1;
} finally {
  await mesh.stop();
}
