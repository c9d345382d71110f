// Runs generated code in the automesh sandbox: a result, a tool call, and a failure with its category.
// Run it with: npm run build && node --import tsx examples/sandbox-basics.ts
import { z } from 'zod';
import { defineTool, Executor } from '../src/index.js';

const sales = [
  { region: 'eu', revenue: 120 },
  { region: 'us', revenue: 80 },
  { region: 'eu', revenue: 30 },
];

const query = defineTool({
  name: 'database.query',
  description: 'Returns the sales rows of one region as objects { region, revenue }',
  input: z.tuple([z.string()]),
  run: async (region) => sales.filter((row) => row.region === region),
});

const executor = new Executor({ limits: { timeoutMs: 5_000 } });
try {
  // What a model writes: TypeScript, top-level await, a tool call, console output, a `result`.
  const ok = await executor.execute({
    code: [
      'interface Row { region: string; revenue: number }',
      'const rows: Row[] = await database.query(context.region);',
      'console.log(`got ${rows.length} rows`);',
      'result = { region: context.region, total: rows.reduce((sum, r) => sum + r.revenue, 0) };',
    ].join('\n'),
    context: { region: 'eu' },
    tools: [query],
  });
  console.log(ok.status, ok.output, ok.logs);

  // Code that forgets to set `result` fails; it is never a silent success.
  const missing = await executor.execute({ code: 'const total = 1 + 1' });
  console.log(missing.status, missing.errorCategory, missing.error);

  // A runtime error comes back with its line in the code as given.
  const broken = await executor.execute({ code: 'const rows = []\nresult = rows[0].revenue' });
  console.log(broken.status, broken.errorCategory, broken.error);
} finally {
  await executor.close();
}
