/**
 * The `mesh-registry` document of one agent (`oam-wire.md` §7): an A2A card plus an `x-agentmesh` block, written key
 * for key in the order OAM writes it, and read back into an {@link AgentContract} whoever wrote it (OAM 0.2.0, OAM
 * main or automesh).
 */
import type { AgentContract, AgentShape, CatalogEntry, RegistryDocument } from './contract-types.js';
import { MeshError } from './mesh-error.js';
import { subjects } from './wire.js';

type JsonSchema = Record<string, unknown>;

/** What an agent's registry document is built from. */
export interface RegistryDocumentInput {
  name: string;
  description: string;
  /** Default `0.1.0`, as OAM's AgentSpec. */
  version?: string;
  tags?: string[];
  shape: AgentShape;
  /** Responders and streamers: the input type (triggers, publishers and watchers take none). */
  inputSchema?: JsonSchema | null;
  /** Responders and triggers only. */
  outputSchema?: JsonSchema | null;
  /** Streamers: the chunk type; publishers: the event type. */
  chunkSchema?: JsonSchema | null;
  node: string;
  instanceId: string;
  kind: 'function' | 'auto' | 'custom';
  /** Default: now. */
  registeredAt?: Date;
}

/** The capability flags of a shape, as OAM infers them from the handler. */
export function capabilitiesOf(shape: AgentShape): { streaming: boolean; invocable: boolean } {
  switch (shape) {
    case 'responder':
    case 'trigger':
      return { streaming: false, invocable: true };
    case 'streamer':
      return { streaming: true, invocable: true };
    case 'publisher':
      return { streaming: true, invocable: false };
    case 'watcher':
      return { streaming: false, invocable: false };
  }
}

/** Python's `datetime.isoformat()` of a UTC time: microseconds (left out when zero) and `+00:00`. */
export function pythonIsoTime(time: Date): string {
  const iso = time.toISOString(); // 2026-11-30T21:35:38.574Z
  const millis = time.getUTCMilliseconds();
  const whole = iso.slice(0, 19);
  return millis === 0 ? `${whole}+00:00` : `${whole}.${String(millis * 1000).padStart(6, '0')}+00:00`;
}

/** Builds the document in OAM's key order; schemas a shape does not carry are left out, as OAM does. */
export function buildRegistryDocument(input: RegistryDocumentInput): RegistryDocument {
  const capabilities = capabilitiesOf(input.shape);
  const tags = [...(input.tags ?? [])];
  const takesInput = input.shape === 'responder' || input.shape === 'streamer';
  const answers = input.shape === 'responder' || input.shape === 'trigger';
  const yields = input.shape === 'streamer' || input.shape === 'publisher';
  const skill: RegistryDocument['skills'][number] = {
    id: input.name,
    name: input.name,
    description: input.description,
    tags: [...tags],
  };
  if (takesInput && input.inputSchema) skill.inputSchema = input.inputSchema;
  if (answers && input.outputSchema) skill.outputSchema = input.outputSchema;
  const block: RegistryDocument['x-agentmesh'] = {
    subject: subjects.agent(input.name),
    tags: [...tags],
    registered_at: pythonIsoTime(input.registeredAt ?? new Date()),
  };
  if (yields && input.chunkSchema) block.chunk_schema = input.chunkSchema;
  block['x-automesh'] = { shape: input.shape, node: input.node, instance_id: input.instanceId, kind: input.kind };
  return {
    name: input.name,
    description: input.description,
    version: input.version ?? '0.1.0',
    capabilities,
    skills: [skill],
    'x-agentmesh': block,
  };
}

/** The catalog entry that goes with a registry document: the six fields, in OAM's order. */
export function catalogEntryOf(document: RegistryDocument): CatalogEntry {
  return {
    name: document.name,
    description: document.description,
    version: document.version,
    tags: [...document['x-agentmesh'].tags],
    invocable: document.capabilities.invocable,
    streaming: document.capabilities.streaming,
  };
}

const SHAPES: readonly AgentShape[] = ['responder', 'streamer', 'trigger', 'publisher', 'watcher'];

const asObject = (value: unknown): Record<string, unknown> | null =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;

const asSchema = (value: unknown): JsonSchema | null => asObject(value);

/**
 * Reads a registry document into a contract, as OAM main's `contract()` does (name and description required; version,
 * flags and tags with OAM's defaults; schemas from `skills[0]`), plus automesh's shape and node when present.
 * Throws `invalid_definition` naming the agent when the document lacks a name or description.
 */
const KINDS = ['function', 'auto', 'custom'] as const;

export function contractOf(value: unknown, name: string): AgentContract {
  const doc = asObject(value);
  if (doc === null || typeof doc.name !== 'string' || typeof doc.description !== 'string') {
    throw new MeshError(
      'invalid_definition',
      `The registry document of "${name}" is not an agent contract (it needs a string "name" and "description"); the process that registered "${name}" wrote something else under its key in mesh-registry.`,
      { agent: name },
    );
  }
  const capabilities = asObject(doc.capabilities) ?? {};
  const block = asObject(doc['x-agentmesh']) ?? {};
  const automesh = asObject(block['x-automesh']);
  const skills = Array.isArray(doc.skills) ? doc.skills : [];
  const skill = asObject(skills[0]) ?? {};
  const invocable = typeof capabilities.invocable === 'boolean' ? capabilities.invocable : true;
  const streaming = typeof capabilities.streaming === 'boolean' ? capabilities.streaming : false;
  const inputSchema = asSchema(skill.inputSchema);
  const written = automesh?.shape;
  const shape = SHAPES.includes(written as AgentShape)
    ? (written as AgentShape)
    : inferShape(invocable, streaming, inputSchema !== null);
  const tags = Array.isArray(block.tags) ? block.tags.filter((tag): tag is string => typeof tag === 'string') : [];
  return {
    name: doc.name,
    description: doc.description,
    version: typeof doc.version === 'string' ? doc.version : '0.1.0',
    tags,
    shape,
    invocable,
    streaming,
    inputSchema,
    outputSchema: asSchema(skill.outputSchema),
    chunkSchema: asSchema(block.chunk_schema),
    subject: typeof block.subject === 'string' ? block.subject : subjects.agent(doc.name),
    registeredAt: typeof block.registered_at === 'string' ? block.registered_at : '',
    node: typeof automesh?.node === 'string' ? automesh.node : null,
    kind: KINDS.find((kind) => kind === automesh?.kind) ?? null,
  };
}

/** A shape from OAM's two flags; an invocable non-streaming agent without an input schema is a trigger. */
function inferShape(invocable: boolean, streaming: boolean, hasInput: boolean): AgentShape {
  if (!invocable) return streaming ? 'publisher' : 'watcher';
  if (streaming) return 'streamer';
  return hasInput ? 'responder' : 'trigger';
}

/** The schemas that make two registrations of one name the same agent (a replica) or different ones. */
export function schemasOf(document: RegistryDocument | AgentContract): {
  input: JsonSchema | null;
  output: JsonSchema | null;
  chunk: JsonSchema | null;
} {
  if ('skills' in document) {
    const skill = document.skills[0];
    return {
      input: skill?.inputSchema ?? null,
      output: skill?.outputSchema ?? null,
      chunk: document['x-agentmesh'].chunk_schema ?? null,
    };
  }
  return { input: document.inputSchema, output: document.outputSchema, chunk: document.chunkSchema };
}

/** JSON with object keys sorted, so two schemas that differ only in key order compare equal. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
