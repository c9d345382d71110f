// A worker of the content pipeline: serves some of its agents (step names, comma-separated; all of them by default)
// in distributed mode on NATS, taking their steps from the work queue, until Ctrl-C (SIGINT) or SIGTERM; then it
// finishes the step it is running and leaves the mesh.
// Run: NATS_URL=nats://127.0.0.1:4222 NODE_NAME=worker-1 node --import tsx examples/content-pipeline/worker.ts research,write
import { Mesh } from '../../src/index.js';
import { pipelineAgents } from './agents.js';

if (!process.env.NATS_URL) {
  console.error(
    'worker.ts serves pipeline steps on NATS: set NATS_URL (e.g. nats://127.0.0.1:4222; `automesh mesh up` starts a server).',
  );
  process.exit(2);
}
process.env.NODE_NAME ||= 'pipeline-worker';
const leave = new Promise<void>((resolve) => {
  process.once('SIGINT', () => resolve());
  process.once('SIGTERM', () => resolve());
});

const agents = pipelineAgents(process.argv[2]);
const mesh = new Mesh({ mode: 'distributed' });
for (const agent of agents) mesh.add(agent);
await mesh.start();
const node = mesh.node.name;
console.log(`${node} ready: ${agents.map((agent) => agent.role).join(', ')}`);
await leave;
await mesh.stop();
console.log(`${node} stopped and left the mesh`);
