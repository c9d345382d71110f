// A data agent whose tool queries a real embedded SQL database: SQLite compiled to WebAssembly (sql.js),
// seeded with a small sales table. The tool runs on the host; the generated code calls it with `await`.
// Run: npm run build && node --import tsx examples/data-agent.ts
import initSqlJs from 'sql.js';
import { z } from 'zod';
import { defineAgent, defineTool, Mesh } from '../src/index.js';

const SQL = await initSqlJs();
const db = new SQL.Database();
db.run(`CREATE TABLE sales (region TEXT, product TEXT, revenue REAL);
  INSERT INTO sales VALUES ('eu', 'widget', 120), ('eu', 'gadget', 30), ('us', 'widget', 80),
    ('us', 'gizmo', 45), ('apac', 'widget', 60), ('apac', 'gadget', 25);`);

const query = defineTool({
  name: 'database.query',
  description:
    'Runs one read-only SQL statement on SQLite; returns the rows as objects. Table: sales(region TEXT, product TEXT, revenue REAL)',
  input: z.tuple([z.string().describe('sql: one SELECT statement')]),
  run: async (sql) => {
    if (!/^\s*select\b/i.test(sql)) throw new Error('only SELECT statements are allowed');
    const [table] = db.exec(sql);
    if (!table) return [];
    return table.values.map((row) => Object.fromEntries(table.columns.map((col, i) => [col, row[i]])));
  },
});

const mesh = new Mesh();
mesh.add(
  defineAgent({
    role: 'data-analyst',
    capabilities: ['data', 'sql'],
    systemPrompt:
      'You answer questions about sales data by querying the database with SQL and computing in JavaScript.',
  }),
  { tools: [query] },
);
await mesh.start();
try {
  const [r] = await mesh.workflow(
    'sales-by-region',
    [{ agent: 'data-analyst', task: 'Total revenue per region, largest first, as [{ region, revenue }]' }],
    { fresh: true },
  );
  console.log(`status: ${r?.status}`);
  console.log(`output: ${JSON.stringify(r?.output)}`);
} finally {
  await mesh.stop();
  db.close();
}
