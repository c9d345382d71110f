/**
 * The peers as tools of a language model (`peers.asTools()` / `peers.runTool()`): `ask_peer`, `broadcast` and
 * `list_peers`, in each provider's own tool-definition shape, built from the live catalog (the roles as an enum,
 * their descriptions and input types from the contracts), and the one way to run a tool call the model made.
 * Anthropic: `{ name, description, input_schema }`; OpenAI: `{ type: 'function', function: { name, description,
 * parameters } }`.
 */
import type { JsonSchema } from '../codegen/json-schema.js';
import { MeshError } from '../transport/oam/mesh-error.js';
import { describePeerList } from './peer-context.js';
import type { PeerDescription } from './peer-directory.js';
import type { BroadcastReply } from './peers.js';

export type PeerToolFormat = 'anthropic' | 'openai';

export const PEER_TOOL_NAMES = ['ask_peer', 'broadcast', 'list_peers'] as const;
export type PeerToolName = (typeof PEER_TOOL_NAMES)[number];

/** A tool in the Anthropic Messages API's shape. */
export interface AnthropicTool {
  name: PeerToolName;
  description: string;
  input_schema: JsonSchema & { type: 'object' };
}

/** A tool in the OpenAI Chat Completions API's shape. */
export interface OpenAiTool {
  type: 'function';
  function: { name: PeerToolName; description: string; parameters: JsonSchema & { type: 'object' } };
}

/** What running a tool call needs of `Peers`. */
export interface PeerToolTarget {
  ask(role: string, message?: unknown): Promise<unknown>;
  broadcast(message?: unknown, options?: { capability?: string }): Promise<BroadcastReply[]>;
  describe(capability?: string): Promise<PeerDescription[]>;
}

const FORMATS: readonly PeerToolFormat[] = ['anthropic', 'openai'];

interface NeutralTool {
  name: PeerToolName;
  description: string;
  schema: JsonSchema & { type: 'object' };
}

/** The three tools for `peers`, in `format`'s shape; `invalid_input` naming the formats for another one. */
export function peerTools(peers: readonly PeerDescription[], format: 'anthropic', agent: string): AnthropicTool[];
export function peerTools(peers: readonly PeerDescription[], format: 'openai', agent: string): OpenAiTool[];
export function peerTools(
  peers: readonly PeerDescription[],
  format: PeerToolFormat,
  agent: string,
): AnthropicTool[] | OpenAiTool[];
export function peerTools(
  peers: readonly PeerDescription[],
  format: PeerToolFormat,
  agent: string,
): AnthropicTool[] | OpenAiTool[] {
  if (!FORMATS.includes(format)) {
    throw new MeshError(
      'invalid_input',
      `peers.asTools({ format }): unknown format ${JSON.stringify(format)}; use ${FORMATS.map((f) => `'${f}'`).join(' or ')}.`,
      { agent },
    );
  }
  const tools = neutralTools(peers);
  if (format === 'anthropic') {
    return tools.map((tool) => ({ name: tool.name, description: tool.description, input_schema: tool.schema }));
  }
  return tools.map((tool) => ({
    type: 'function' as const,
    function: { name: tool.name, description: tool.description, parameters: tool.schema },
  }));
}

function neutralTools(peers: readonly PeerDescription[]): NeutralTool[] {
  const roles = peers.map((peer) => peer.role);
  const capabilities = [...new Set(peers.flatMap((peer) => peer.capabilities))].sort();
  // An empty enum is no valid JSON Schema (and providers refuse it): with nobody there, any string, and the
  // description says so.
  const role: JsonSchema =
    roles.length > 0
      ? { type: 'string', enum: roles, description: 'The peer to ask.' }
      : { type: 'string', description: 'The peer to ask (none is on the mesh right now).' };
  const capability: JsonSchema =
    capabilities.length > 0
      ? { type: 'string', enum: capabilities, description: 'Only the peers with this capability.' }
      : { type: 'string', description: 'Only the peers with this capability.' };
  const message: JsonSchema = {
    description: 'The message: JSON data of the type the peer takes (see the list of peers).',
  };
  return [
    {
      name: 'ask_peer',
      description: `Ask another agent (a peer) on the mesh and wait for its reply. The peers now:\n${describePeerList(peers)}`,
      schema: {
        type: 'object',
        properties: { role, message },
        required: ['role'],
        additionalProperties: false,
      },
    },
    {
      name: 'broadcast',
      description:
        'Send the same message to every peer (or every peer with a capability) at once and collect the replies that '
        + 'come within a few seconds: a list of { role, reply } or { role, error }; [] when nobody answers.',
      schema: { type: 'object', properties: { message, capability }, additionalProperties: false },
    },
    {
      name: 'list_peers',
      description:
        'List the peers on the mesh now (optionally those with a capability): role, description, capabilities and '
        + 'the JSON Schemas of what each takes and returns.',
      schema: { type: 'object', properties: { capability }, additionalProperties: false },
    },
  ];
}

/**
 * Runs one tool call a model made. `input` is the call's arguments: an object (Anthropic's `input`) or its JSON text
 * (OpenAI's `function.arguments`). Resolves with JSON data to send back as the tool's result; a peer's failure, an
 * unknown tool or bad arguments reject with a `MeshError` (send its message back as an error result).
 */
export async function runPeerTool(
  target: PeerToolTarget,
  name: string,
  input: unknown,
  agent: string,
): Promise<unknown> {
  if (!(PEER_TOOL_NAMES as readonly string[]).includes(name)) {
    throw new MeshError(
      'invalid_input',
      `Unknown peer tool ${JSON.stringify(name)}: the peer tools are ${PEER_TOOL_NAMES.join(', ')}.`,
      { agent },
    );
  }
  const args = toolArguments(name, input, agent);
  switch (name as PeerToolName) {
    case 'ask_peer': {
      if (typeof args.role !== 'string' || args.role === '') {
        throw badArguments(agent, name, 'role must be the name of a peer (a string); call list_peers to see them');
      }
      return target.ask(args.role, args.message);
    }
    case 'broadcast': {
      const capability = optionalString(args.capability, agent, name, 'capability');
      const replies = await target.broadcast(args.message, capability === undefined ? {} : { capability });
      return replies.map((answer) =>
        'reply' in answer
          ? { role: answer.role, reply: answer.reply }
          : { role: answer.role, error: { code: answer.error.code, message: answer.error.message } },
      );
    }
    case 'list_peers':
      return target.describe(optionalString(args.capability, agent, name, 'capability'));
  }
}

function toolArguments(name: string, input: unknown, agent: string): Record<string, unknown> {
  let args: unknown = input ?? {};
  if (typeof args === 'string') {
    try {
      args = args.trim() === '' ? {} : (JSON.parse(args) as unknown);
    } catch (err) {
      throw badArguments(agent, name, `the arguments are not JSON (${(err as Error).message})`);
    }
  }
  if (typeof args !== 'object' || args === null || Array.isArray(args)) {
    throw badArguments(agent, name, 'the arguments must be an object');
  }
  return args as Record<string, unknown>;
}

function optionalString(value: unknown, agent: string, name: string, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw badArguments(agent, name, `${field} must be a string`);
  return value;
}

function badArguments(agent: string, name: string, problem: string): MeshError {
  return new MeshError('invalid_input', `Bad arguments for peer tool ${name}: ${problem}.`, { agent });
}
