// The customer support swarm: two customers' conversations with the triage agent, which asks the specialists (two
// CustomAgents and an AutoAgent that writes code) and answers. Each conversation is a session: its id and metadata
// (customer, plan) travel with every request triage makes while handling a message, and its turns are kept, so a
// follow-up goes to the right specialist.
// Run: npm run build && node --import tsx examples/support-swarm/run.ts            (one process, with a provider in .env)
//      NATS_URL=nats://127.0.0.1:4222 node --import tsx examples/support-swarm/run.ts   (the same on NATS)
import { Mesh, SESSION_HEADER, type SessionInput } from '../../src/index.js';
import { Billing, type SupportReply, TechSupport, Triage, UsageAnalyst, usageTool } from './agents.js';

// Unset NATS_URL: one process, in-process transport. Set: the same agents on NATS, where more could join them.
const mesh = new Mesh();
mesh
  .add(Triage)
  .add(Billing)
  .add(TechSupport)
  .add(UsageAnalyst, { tools: [usageTool] });
await mesh.start();

/** A conversation: a new session id each run (the sessions' turns live in the mesh's KV, which NATS keeps). */
const session = (customer: string, plan: string): SessionInput => ({
  id: `${customer}-${Date.now().toString(36)}`,
  metadata: { customer, plan },
});
const ada = session('ada', 'pro');
const grace = session('grace', 'basic');

const messages: Array<[SessionInput, string]> = [
  [ada, 'How many API calls did we make last week?'],
  [ada, 'I was charged twice this month'],
  [ada, 'When do I get it back?'],
  [grace, 'The app crashes when I log in'],
  [grace, 'I was charged twice too'],
];

let failed = false;
try {
  console.log(`support swarm on ${mesh.node.transport}: ${(await mesh.catalog()).map((e) => e.name).join(', ')}`);
  for (const [conversation, message] of messages) {
    const customer = conversation.metadata?.customer as string;
    try {
      // From outside the mesh's agents, the session rides in its header; inside, this.peers carries it on.
      const answer = (await mesh.call(
        'triage',
        { message },
        { headers: { [SESSION_HEADER]: JSON.stringify(conversation) }, timeoutMs: 180_000 },
      )) as SupportReply;
      console.log(`${customer} #${answer.turn} [${answer.topic} -> ${answer.routedTo}] ${message}`);
      console.log(`  ${answer.reply}`);
    } catch (err) {
      failed = true;
      console.log(`${customer}: "${message}" failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
} finally {
  await mesh.stop();
}
process.exitCode = failed ? 1 : 0;
