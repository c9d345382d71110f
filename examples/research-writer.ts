// A sequential pipeline: a researcher gathers facts as data, a writer turns them into a paragraph.
// The writer's code reads the researcher's envelope as `context.research.output`.
// Run: npm run build && node --import tsx examples/research-writer.ts
import { defineAgent, Mesh } from '../src/index.js';

const mesh = new Mesh();
mesh.add(
  defineAgent({
    role: 'researcher',
    capabilities: ['research'],
    systemPrompt: 'You are a careful researcher. Return findings as data: `result = { topic, facts: string[] }`.',
  }),
);
mesh.add(
  defineAgent({
    role: 'writer',
    capabilities: ['writing'],
    systemPrompt: 'You are a technical writer. Build text from the findings in `context.research.output`.',
  }),
);
await mesh.start();
try {
  const results = await mesh.workflow(
    'research-then-write',
    [
      { id: 'research', agent: 'researcher', task: 'List three facts about the Rust borrow checker' },
      { id: 'write', agent: 'writer', task: 'Write one paragraph from the research findings', dependsOn: ['research'] },
    ],
    { fresh: true },
  );
  for (const r of results) console.log(`${r.stepId}: ${r.status}${r.error ? ` (${r.error})` : ''}`);
  console.log(`paragraph: ${String(results[1]?.output)}`);
  console.log(
    `summary: ${results.summary.succeeded}/${results.summary.steps} succeeded, ${results.summary.tokens.total} tokens`,
  );
} finally {
  await mesh.stop();
}
