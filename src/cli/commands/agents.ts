/** `automesh agents`: the mesh's catalog, with each agent's shape and the node that serves it. */

import { type ListedAgent, listAgents } from '../../mesh/agent-listing.js';
import { parseVerbArgs } from '../args.js';
import type { Command } from '../command.js';
import { eprintln, type Io, printJson, println, table } from '../io.js';
import { NO_NATS_HINT, natsConfigured, withMeshClient } from '../mesh-client.js';
import { safeText } from '../terminal-text.js';

const HELP = `Usage: automesh agents [--channel C] [--tag T] [--json]

List the agents on the mesh (any process, any machine, any language that speaks OpenAgentMesh's wire): name,
shape (responder, streamer, trigger, publisher, watcher), the node that serves it, tags and description.
The mesh is the NATS server NATS_URL names (environment or .env); \`automesh mesh up\` starts one locally.

Options:
  --channel C  only agents named C or C.… (e.g. --channel nlp)
  --tag T      only agents with tag T (repeat for several: all must match)
  --json       one JSON array of { name, description, version, tags, invocable, streaming, shape, node }

Examples:
  automesh agents
  automesh agents --channel nlp --json`;

const OPTIONS = {
  channel: { type: 'string' },
  tag: { type: 'string', multiple: true },
  json: { type: 'boolean', default: false },
} as const;

function printAgents(io: Io, agents: ListedAgent[], where: string): void {
  if (agents.length === 0) {
    println(io, `No agents on the mesh at ${where} (with these filters).`);
    return;
  }
  const rows = [...agents]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((a) => [a.name, a.shape ?? '?', a.node ?? '-', a.tags.join(',') || '-', a.description]);
  // Names and descriptions come from other processes: controls in them are shown as escapes.
  println(io, safeText(table(['name', 'shape', 'node', 'tags', 'description'], rows)));
  println(io, '');
  println(io, `${agents.length} agent(s) on ${where}. Call one: automesh call NAME '{"…": …}'`);
}

async function run(args: string[], io: Io): Promise<number> {
  const { values } = parseVerbArgs('agents', { args, options: OPTIONS, allowPositionals: false });
  if (!natsConfigured(io)) {
    // A fresh process's in-process mesh holds nothing: there is no one to list.
    if (values.json) printJson(io, []);
    const say = values.json ? (text: string) => eprintln(io, text) : (text: string) => println(io, text);
    say('NATS_URL is not set, so the mesh is in-process, and the in-process mesh of a fresh process is empty:');
    say('agents in other processes meet on a NATS server.');
    say(`To see them: ${NO_NATS_HINT}.`);
    return 0;
  }
  const filter = {
    ...(values.channel !== undefined ? { channel: values.channel } : {}),
    ...(values.tag !== undefined ? { tags: values.tag } : {}),
  };
  return withMeshClient(io, async (mesh) => {
    const agents = await listAgents(mesh, filter);
    if (values.json) printJson(io, agents);
    else printAgents(io, agents, mesh.node.location);
    return 0;
  });
}

export const agentsCommand: Command = { name: 'agents', help: HELP, options: OPTIONS, run };
