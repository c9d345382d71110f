// The content pipeline: a workflow of four CustomAgent steps, research → write → edit → publish, each step naming
// its agent by capability. Without NATS_URL it runs in this process. With NATS_URL it runs in distributed mode: each
// step goes through the durable work queue to whichever process serves its agent (this one, or a worker.ts), and
// the article is published in the mesh's object store, where this process reads it back.
// Run: node --import tsx examples/content-pipeline/run.ts                                    (one process)
//      NATS_URL=nats://127.0.0.1:4222 node --import tsx examples/content-pipeline/run.ts     (distributed, one node)
//      NATS_URL=… node --import tsx examples/content-pipeline/worker.ts research,write       (a second process, and:)
//      NATS_URL=… node --import tsx examples/content-pipeline/run.ts --agents edit,publish
import { parseArgs } from 'node:util';
import { type Envelope, Mesh, type WorkflowStep } from '../../src/index.js';
import { type Draft, type EditedDraft, PIPELINE, type Published, pipelineAgents, type Research } from './agents.js';

const { values } = parseArgs({
  options: { agents: { type: 'string' }, topic: { type: 'string', default: 'heat pumps' } },
});
const distributed = Boolean(process.env.NATS_URL);
if (!distributed && values.agents) {
  throw new Error('--agents splits the pipeline across processes, which needs NATS_URL (the steps meet on NATS).');
}
// The mesh's node name, and what the agents' lines name (they run in this process).
process.env.NODE_NAME ||= 'pipeline-main';

const mesh = new Mesh({ mode: distributed ? 'distributed' : 'autonomous' });
for (const agent of pipelineAgents(values.agents)) mesh.add(agent);
await mesh.start();

const steps: WorkflowStep[] = [
  { id: 'research', agent: 'research', task: 'Collect the facts on the topic', context: { topic: values.topic } },
  { id: 'write', agent: 'writing', task: 'Write a draft from the research', dependsOn: ['research'] },
  { id: 'edit', agent: 'editing', task: 'Edit the draft to the house style', dependsOn: ['write'] },
  { id: 'publish', agent: 'publishing', task: 'Publish the edited article', dependsOn: ['edit'] },
];

let failed = true;
try {
  const nodes = await waitForAgents(30_000);
  const mode = distributed ? 'distributed mode on NATS' : 'one process';
  console.log(`content pipeline (${mode}): ${[...nodes].map(([role, node]) => `${role} on ${node}`).join(', ')}`);
  const results = await mesh.workflow(`content-${values.topic.replace(/\W+/g, '-')}`, steps, { fresh: true });
  for (const step of results)
    console.log(`step ${step.stepId} (${step.role} on ${nodes.get(step.role)}): ${outcome(step)}`);
  const published = results.find((step) => step.stepId === 'publish');
  if (published?.status === 'success') {
    const { name } = published.output as Published;
    console.log(
      `--- ${name} (read back from ${mesh.blobs.kind === 'object-store' ? 'the object store' : 'the folder'})`,
    );
    console.log((await mesh.blobs.getText(name))?.trimEnd());
  }
  failed = results.summary.succeeded !== results.summary.steps;
  console.log(`workflow: ${results.summary.succeeded}/${results.summary.steps} steps succeeded`);
} finally {
  await mesh.stop();
}
process.exitCode = failed ? 1 : 0;

/** What a step produced, in a few words. */
function outcome(step: Envelope): string {
  if (step.status !== 'success') return `${step.status}: ${step.error}`;
  const output = step.output;
  switch (step.stepId) {
    case 'research':
      return `success -> ${(output as Research).facts.length} facts`;
    case 'write':
      return `success -> ${(output as Draft).paragraphs.length} paragraphs`;
    case 'edit':
      return `success -> ${(output as EditedDraft).changes} changes, ${(output as EditedDraft).words} words`;
    default:
      return `success -> ${(output as Published).name} (${(output as Published).bytes} bytes)`;
  }
}

/** Waits until every pipeline agent is on the mesh (a worker may start after this process); role → its node. */
async function waitForAgents(timeoutMs: number): Promise<Map<string, string>> {
  const roles = Object.values(PIPELINE).map((agent) => agent.role);
  const until = Date.now() + timeoutMs;
  for (;;) {
    const listed = new Set((await mesh.catalog()).map((entry) => entry.name));
    const missing = roles.filter((role) => !listed.has(role));
    if (missing.length === 0) break;
    if (Date.now() > until) {
      throw new Error(
        `The agents ${missing.join(', ')} are not on the mesh after ${timeoutMs / 1000} s: start a worker.ts that serves `
          + 'them, with the same NATS_URL.',
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const nodes = new Map<string, string>();
  for (const role of roles) nodes.set(role, (await mesh.contract(role)).node ?? 'unknown node');
  return nodes;
}
