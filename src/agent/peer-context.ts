/**
 * Peers described in words for a language model ("cognitive discovery"): one line per peer saying who it is, what
 * it can do, what it takes and what it returns, the types rendered from the JSON Schemas of its contract. Used by
 * `peers.cognitiveContext()`, by the tool descriptions of `peers.asTools()` and by the prompt of an AutoAgent whose
 * generated code may call peers.
 */
import { typeOfSchema } from '../codegen/tool-docs.js';
import type { PeerDescription } from './peer-directory.js';

/** A rendered type longer than this is cut: an AutoAgent's envelope alone would take a paragraph of every prompt. */
export const MAX_TYPE_CHARS = 300;

/** What a peer takes, as a TypeScript-like type. */
export function inputTypeOf(peer: PeerDescription): string {
  if (peer.shape === null) return 'unknown (its contract could not be read)';
  if (peer.inputSchema === null) return 'nothing (send no message)';
  const type = clipped(typeOfSchema(peer.inputSchema));
  return type === 'unknown' ? 'any JSON data' : type;
}

/** What a peer answers with, as a TypeScript-like type. */
export function outputTypeOf(peer: PeerDescription): string {
  if (peer.outputSchema === null) return 'any JSON data';
  const type = clipped(typeOfSchema(peer.outputSchema));
  return type === 'unknown' ? 'any JSON data' : type;
}

/** `- role: description [capabilities: …] Takes: T. Returns: U.` */
export function describePeer(peer: PeerDescription): string {
  const lines = [`- ${peer.role}: ${peer.description.trim() || '(no description)'}`];
  if (peer.capabilities.length > 0) lines.push(`  Capabilities: ${peer.capabilities.join(', ')}.`);
  if (peer.shape === 'streamer') lines.push('  It streams its answer in chunks; asking it for one reply fails.');
  lines.push(`  Takes: ${inputTypeOf(peer)}.`, `  Returns: ${outputTypeOf(peer)}.`);
  return lines.join('\n');
}

/** The peers, one entry each; a line saying there are none when there are none. */
export function describePeerList(peers: readonly PeerDescription[]): string {
  if (peers.length === 0) return 'No other agent is on the mesh right now.';
  return peers.map(describePeer).join('\n');
}

/** `peers.cognitiveContext()`: who is available and what each takes, for a model's system prompt. */
export function cognitiveContextText(peers: readonly PeerDescription[]): string {
  if (peers.length === 0) return 'No other agent (peer) is on the mesh right now, so there is nobody to ask.';
  return [
    `These other agents (peers) are on the mesh now (${peers.length}); each answers a request with a reply.`,
    'Send each one a message of the type it takes; its reply has the type it returns.',
    describePeerList(peers),
  ].join('\n');
}

function clipped(type: string): string {
  return type.length > MAX_TYPE_CHARS ? `${type.slice(0, MAX_TYPE_CHARS)}…` : type;
}
