// The calculator of examples/calculator.ts as an HTTP API: the mesh starts with the server and stops with it.
// Run: npm run build && node --import tsx examples/calculator-api.ts   (with a provider configured in .env), then
//   curl -s localhost:8000/agents/calculator/tasks -H 'content-type: application/json' \
//        -d '{"task": "Calculate the factorial of 10"}'
//   curl -s localhost:8000/workflows -H 'content-type: application/json' \
//        -d '{"id": "calc-task", "steps": [{"agent": "calculator", "task": "Calculate the factorial of 10"}]}'
//   curl -sN localhost:8000/workflows/calc-task/events        # its progress, live
// Ctrl-C stops the server, then the mesh. PORT picks another port (0: a free one).
import { AutoAgent, Mesh, serveMesh } from '../src/index.js';

class CalculatorAgent extends AutoAgent {
  static override role = 'calculator';
  static override capabilities = ['math', 'calculations'];
  static override systemPrompt = 'You are a math expert. Store the answer in `result`.';
}

const mesh = new Mesh({ mode: 'autonomous' });
mesh.add(CalculatorAgent);
const server = await serveMesh(mesh, { port: Number(process.env.PORT ?? 8000) });
console.log(`calculator API on ${server.url}`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void server.close().then(() => console.log('stopped'));
  });
}
