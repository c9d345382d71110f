// One research node of the distributed research network: it serves one research agent (tech, market or reg) on
// NATS and runs until Ctrl-C (SIGINT) or SIGTERM, then finishes what it is doing and leaves the mesh. Its agent's
// code reads the notes only this node holds, through a tool that runs here.
// Run: NATS_URL=nats://127.0.0.1:4222 node --import tsx examples/distributed/research-node.ts tech
//      (and `market`, `reg` in two more terminals; or all of it at once: npm run example:distributed)
import { Mesh } from '../../src/index.js';
import { libraryTool, researchArea } from './research-areas.js';

const area = researchArea(process.argv[2]);

// Listened for from the start: a signal while the mesh starts makes the node leave as soon as it is up.
const leave = new Promise<void>((resolve) => {
  process.once('SIGINT', () => resolve());
  process.once('SIGTERM', () => resolve());
  // Started by run.ts with an IPC channel: if the launcher dies without stopping this node, the channel closes.
  // Unreferenced, so the channel alone does not keep the process alive once the mesh has stopped.
  if (process.channel) {
    process.channel.unref();
    process.once('disconnect', () => resolve());
  }
});

const mesh = new Mesh({ mode: 'distributed', config: { NODE_NAME: process.env.NODE_NAME || area.node } });
mesh.add(area.agent, { tools: [libraryTool(area, mesh)] });
await mesh.start().catch((err: Error) => {
  console.error(`${area.node} could not start: ${err.message}`);
  process.exit(1);
});
const node = mesh.node.name;
console.log(`${node} ready: ${area.agent.role} on ${mesh.node.location}`);
await leave;
await mesh.stop();
console.log(`${node} stopped and left the mesh`);
