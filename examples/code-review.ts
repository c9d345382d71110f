// Parallel reviewers feeding a summarizer: the security and performance reviews run at the same time; the
// summarizer starts when both are done and reads them from its context.
// Run: npm run build && node --import tsx examples/code-review.ts
import { defineAgent, Mesh } from '../src/index.js';

const snippet = `app.get('/user', async (req, res) => {
  const rows = await db.query("SELECT * FROM users WHERE name = '" + req.query.name + "'");
  for (const row of rows) row.orders = await db.query('SELECT * FROM orders WHERE user_id = ' + row.id);
  res.json(rows);
});`;

const mesh = new Mesh();
const reviewer = (role: string, focus: string) =>
  defineAgent({
    role,
    capabilities: ['review', focus],
    systemPrompt:
      `You review code for ${focus} problems. Analyse \`context.code\` with string and regex checks and `
      + 'return `result = { issues: [{ severity, line, problem, fix }] }`.',
  });
mesh.add(reviewer('security-reviewer', 'security'));
mesh.add(reviewer('performance-reviewer', 'performance'));
mesh.add(
  defineAgent({
    role: 'summarizer',
    capabilities: ['summary'],
    systemPrompt: 'You merge review findings from your context into one prioritized list.',
  }),
);
await mesh.start();
mesh.on('step:started', ({ stepId }) => console.log(`started ${stepId}`));
try {
  const results = await mesh.workflow(
    'review',
    [
      { id: 'security', agent: 'security', task: 'Review the code for security issues', context: { code: snippet } },
      {
        id: 'performance',
        agent: 'performance',
        task: 'Review the code for performance issues',
        context: { code: snippet },
      },
      {
        id: 'summary',
        agent: 'summarizer',
        task: 'Merge the security and performance reviews, most severe first',
        dependsOn: ['security', 'performance'],
      },
    ],
    { fresh: true },
  );
  for (const r of results) console.log(`${r.stepId}: ${r.status}`);
  console.log(`merged: ${JSON.stringify(results[2]?.output)}`);
} finally {
  await mesh.stop();
}
