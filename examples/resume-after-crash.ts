// A workflow resumed after a crash. The first run is a child process that dies (SIGKILL) right after the
// second of three steps finished; the second run uses the same workflow id and resumes: the two finished
// steps come back `recovered` without a model call, and only the third runs. The dead run still holds the id
// until its lease expires (WORKFLOW_LEASE_TTL, 2 s for the child here): `{ wait: true }` waits that out.
// Run: npm run build && node --import tsx examples/resume-after-crash.ts
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { defineAgent, Mesh } from '../src/index.js';

const crashing = process.argv.includes('--crash-after-two');

const mesh = new Mesh();
mesh.add(
  defineAgent({
    role: 'etl',
    capabilities: ['etl'],
    systemPrompt:
      'You transform data step by step. Read earlier steps from `context` and store the answer in `result`.',
  }),
);
await mesh.start();
if (crashing) {
  mesh.on('step:finished', ({ stepId }) => {
    if (stepId === 'transform') process.kill(process.pid, 'SIGKILL');
  });
}
const steps = [
  { id: 'extract', agent: 'etl', task: 'Produce the list of the first 10 square numbers' },
  { id: 'transform', agent: 'etl', task: 'Keep the even numbers of the extract step', dependsOn: ['extract'] },
  { id: 'load', agent: 'etl', task: 'Sum the numbers of the transform step', dependsOn: ['transform'] },
];

if (crashing) {
  await mesh.workflow('etl-resume', steps, { fresh: true });
} else {
  // First run, in a child process that crashes after "transform".
  const child = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--crash-after-two'], {
    stdio: 'inherit',
    env: { ...process.env, WORKFLOW_LEASE_TTL: '2' },
  });
  console.log(`first run ended by ${child.signal ?? `exit code ${child.status}`}`);
  // Second run: same workflow id, so it resumes once the crashed run's lease has expired.
  try {
    const results = await mesh.workflow('etl-resume', steps, { wait: true });
    for (const r of results)
      console.log(
        `${r.stepId}: ${r.status}${r.recovered ? ' (recovered, no model call)' : ''} -> ${JSON.stringify(r.output)}`,
      );
  } finally {
    await mesh.stop();
  }
}
