// One task: a calculator agent computes the factorial of 10 by writing and running code.
// Run: npm run build && node --import tsx examples/calculator.ts   (with a provider configured in .env)
import { AutoAgent, Mesh } from '../src/index.js';

class CalculatorAgent extends AutoAgent {
  static override role = 'calculator';
  static override capabilities = ['math', 'calculations'];
  static override systemPrompt = 'You are a math expert. Store the answer in `result`.';
}

const mesh = new Mesh({ mode: 'autonomous' });
mesh.add(CalculatorAgent);
await mesh.start();
try {
  const [r] = await mesh.workflow('calc-task', [{ agent: 'calculator', task: 'Calculate the factorial of 10' }], {
    fresh: true,
  });
  console.log(`status: ${r?.status}`);
  console.log(`output: ${JSON.stringify(r?.output)}`);
  console.log(
    `repairs: ${r?.repairs}, tokens: ${r?.tokens.total}, cost: ${r?.costUsd === null ? 'unpriced' : `$${r?.costUsd?.toFixed(6)}`}`,
  );
  console.log(`code:\n${r?.code}`);
} finally {
  await mesh.stop();
}
