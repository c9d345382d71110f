// The synthesizer of the distributed research network: it serves the synthesizer agent and runs the workflow. The
// three research steps name agents of the three research nodes (other processes, found in the catalog) and run
// there in parallel; the synthesis step runs here once all three are done, with their reports in its context
// (`context.tech`, … and `context.previousStepResults`). It prints each step and the briefing, then leaves.
// Run (with the three research nodes up): NATS_URL=nats://127.0.0.1:4222 node --import tsx examples/distributed/synthesizer.ts
import { type Envelope, Mesh } from '../../src/index.js';
import { RESEARCH_AREAS, SYNTHESIS_TASK, SYNTHESIZER, WORKFLOW_ID, waitForResearchers } from './research-areas.js';

const mesh = new Mesh({ mode: 'distributed', config: { NODE_NAME: process.env.NODE_NAME || 'synthesizer' } });
mesh.add(SYNTHESIZER);
await mesh.start();
let failed = true;
try {
  const servedBy = await waitForResearchers(mesh, 30_000);
  servedBy.set(SYNTHESIZER.role, mesh.node.name);
  console.log(`workflow ${WORKFLOW_ID}: tech, market and reg in parallel on their nodes, then synth here`);
  const results = await mesh.workflow(
    WORKFLOW_ID,
    [
      ...RESEARCH_AREAS.map((area) => ({ id: area.step, agent: area.agent.role, task: area.task })),
      { id: 'synth', agent: SYNTHESIZER.role, task: SYNTHESIS_TASK, dependsOn: RESEARCH_AREAS.map((a) => a.step) },
    ],
    { fresh: true },
  );
  for (const step of results as Envelope[]) {
    const where = servedBy.get(step.role) ?? 'unknown node';
    const outcome = step.status === 'success' ? `repairs ${step.repairs}, result ${step.resultId}` : step.error;
    console.log(`step ${step.stepId} (${step.role} on ${where}): ${step.status}, ${outcome}`);
  }
  const synth = results.find((step) => step.stepId === 'synth');
  if (synth?.status === 'success') console.log(`briefing: ${JSON.stringify(synth.output, null, 2)}`);
  const { summary } = results;
  console.log(`workflow ${WORKFLOW_ID}: ${summary.succeeded}/${summary.steps} steps succeeded`);
  failed = summary.succeeded !== summary.steps;
} finally {
  await mesh.stop();
}
process.exitCode = failed ? 1 : 0;
