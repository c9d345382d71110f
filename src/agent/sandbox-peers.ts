/**
 * Peers inside generated code (DESIGN.md §10): an AutoAgent that allows peers (`defineAgent({ peers })`) gets a
 * `peers` namespace in its sandbox, `await peers.ask(role, message)` and `await peers.list()`, made of ordinary
 * tools: they cross the sandbox's tool bridge like any tool, under the same caps on calls and bytes and the same
 * time limit. A peer's failure reaches the code as a catchable Error whose `code` is the MeshError's; a peer the
 * agent does not allow is refused (`not_allowed`) with the allowed list. The session of the task travels with every
 * call. The prompt describes exactly the allowed peers on the mesh when the task starts.
 */
import { z } from 'zod';
import type { ToolDefinition } from '../sandbox/tools.js';
import { MeshError } from '../transport/oam/mesh-error.js';
import { describePeerList } from './peer-context.js';
import type { PeerDescription } from './peer-directory.js';
import { peerAllowed } from './peer-patterns.js';
import type { Peers } from './peers.js';
import type { Session } from './session.js';

/** The namespace generated code calls peers through. */
export const PEERS_NAMESPACE = 'peers';

/** What an agent that allows peers brings to a task. */
export interface PeerAccess {
  /** `AgentDefinition.peers`: names, `channel.*`, `*`. */
  patterns: readonly string[];
  peers: Peers;
}

/** The allowed peers the catalog lists now, with their contracts. */
export function allowedPeersNow(access: PeerAccess): Promise<PeerDescription[]> {
  return access.peers.describe({ patterns: access.patterns });
}

/** Per task: who asks, in which session, for how long at most, until when. */
export interface PeerCallScope {
  agent: string;
  session: Session;
  /** A call can take no longer than the execution that makes it. */
  timeoutMs: number;
  signal: AbortSignal;
}

/** The `peers.ask` and `peers.list` tools of one task. */
export function sandboxPeerTools(access: PeerAccess, scope: PeerCallScope): ToolDefinition[] {
  const allowedNow = () => access.peers.list().filter((peer) => peerAllowed(access.patterns, peer.role));
  const ask: ToolDefinition = {
    name: `${PEERS_NAMESPACE}.ask`,
    description: 'Asks a peer agent and waits for its reply.',
    input: z.tuple([z.string(), z.unknown().optional()]) as unknown as z.ZodType<unknown[]>,
    run: async (role: string, message?: unknown) => {
      if (!peerAllowed(access.patterns, role) || role === scope.agent) throw notAllowed(access, scope.agent, role);
      if (!allowedNow().some((peer) => peer.role === role)) throw notThere(allowedNow(), scope.agent, role);
      return access.peers.ask(role, message, {
        session: scope.session,
        timeoutMs: scope.timeoutMs,
        signal: scope.signal,
      });
    },
  };
  const list: ToolDefinition = {
    name: `${PEERS_NAMESPACE}.list`,
    description: 'The peers this code may ask that are on the mesh now.',
    input: z.tuple([]) as unknown as z.ZodType<unknown[]>,
    run: async () => allowedNow(),
  };
  return [ask, list];
}

/** The peers part of the prompt's tools section: how to call them and who they are (exactly the allowed ones now). */
export function describeSandboxPeers(access: PeerAccess, present: readonly PeerDescription[]): string {
  const who =
    present.length > 0
      ? describePeerList(present)
      : `None of the peers you may ask (${access.patterns.join(', ')}) is on the mesh right now; do not call peers.ask.`;
  return [
    'Peers: other agents on the mesh your code may ask (these only; asking any other agent is refused).',
    '- await peers.ask(role: string, message: <the type the peer takes>): Promise<<the type it returns>>',
    '  Sends the message (JSON data) and waits for the reply. A failing peer throws an Error you can catch; its',
    '  `code` says why ("timeout", "handler_error", "invalid_input", "not_found", ...).',
    '- await peers.list(): Promise<Array<{ role: string; description: string; capabilities: string[] }>>',
    '  The peers you may ask that are on the mesh now.',
    'The peers you may ask:',
    who,
  ].join('\n');
}

function notAllowed(access: PeerAccess, agent: string, role: string): MeshError {
  // Its own code asking the agent would run a task inside a task, each waiting for the next.
  const why = role === agent ? 'an agent is not its own peer; ' : '';
  return new MeshError(
    'not_allowed',
    `Agent "${agent}" may not ask peer "${role}": ${why}the peers it may ask are ${access.patterns.join(', ')}. Ask one of those (peers.list() shows those on the mesh now).`,
    { agent: role },
  );
}

function notThere(present: readonly { role: string }[], agent: string, role: string): MeshError {
  const roles =
    present
      .map((peer) => peer.role)
      .sort()
      .join(', ') || 'none';
  return new MeshError(
    'not_found',
    `No peer "${role}" is on the mesh now (agent "${agent}" may ask it, but nobody serves it); the peers it may ask that are there: ${roles}.`,
    { agent: role },
  );
}
