// The agents of this project. main.ts adds them to a Mesh; the CLI loads this file too:
//   npx automesh run --agents ./agents.ts --agent calculator "Calculate 2**10"
//   npx automesh run --agents ./agents.ts workflow.json
import { AutoAgent, defineAgent, defineTool } from 'automesh';
import { z } from 'zod';

/** An agent as a class: it answers math questions by writing JavaScript that computes the answer. */
export class CalculatorAgent extends AutoAgent {
  static override role = 'calculator';
  static override capabilities = ['math', 'calculations'];
  static override systemPrompt =
    'You are a math expert. Write JavaScript that computes the answer and store it in `result`.';
}

/** Some data for the analyst. In a real project the tool would query your database or an API. */
type Region = 'eu' | 'us' | 'apac';
const sales: Array<{ region: Region; product: string; revenue: number }> = [
  { region: 'eu', product: 'widget', revenue: 120 },
  { region: 'eu', product: 'gadget', revenue: 30 },
  { region: 'us', product: 'widget', revenue: 80 },
  { region: 'us', product: 'gizmo', revenue: 45 },
  { region: 'apac', product: 'widget', revenue: 60 },
  { region: 'apac', product: 'gadget', revenue: 25 },
];

/**
 * A tool: a host function the generated code may call (`await sales.rows()`, `await sales.rows('eu')`); described
 * to the model for you. `input` (zod) checks the arguments the generated code passes before `run` sees them.
 */
export const salesRows = defineTool({
  name: 'sales.rows',
  description:
    'Returns the sales rows, each an object { region: string, product: string, revenue: number }; all regions when no region is given',
  input: z.array(z.enum(['eu', 'us', 'apac'])).max(1, 'at most one region'),
  run: async (...regions) => (regions.length > 0 ? sales.filter((row) => regions.includes(row.region)) : sales),
});

/** An agent as a definition, without a class. */
export const analyst = defineAgent({
  role: 'analyst',
  capabilities: ['data', 'reporting'],
  systemPrompt:
    'You are a data analyst. Read the data with `await sales.rows()`, compute in JavaScript, and store the answer in `result`.',
});

/** What main.ts and `automesh run --agents ./agents.ts` use: classes, definitions, and { agent, tools } pairs. */
export const agents = [CalculatorAgent, { agent: analyst, tools: [salesRows] }];
