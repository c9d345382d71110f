/**
 * What generated code depends on besides its task (DESIGN.md section 6): the system prompt, the shape of the
 * context, the tools and the output schema. Each is hashed; together with role and normalized task they make the
 * registry key, so code is reused only where it was written for the same situation. Shapes, never values: the
 * same task over other numbers of the same shape reuses the code.
 */
import { createHash } from 'node:crypto';
import type { z } from 'zod';
import { stableJson, toJsonSchema } from '../codegen/json-schema.js';

/** Hashes (sha256 hex) of what code depends on; part of every registry entry and lookup. */
export interface CodeDependencies {
  /** Hash of the agent's system prompt. */
  systemPromptHash: string;
  /** {@link contextShapeHash} of the task's context. */
  contextShapeHash: string;
  /** {@link toolsHash} of the agent's tools and the contracts of the peers its code may call. */
  toolsHash: string;
  /** {@link outputSchemaHash} of the output schema in force (or of none). */
  outputSchemaHash: string;
}

/** A tool as far as its signature goes. */
export interface ToolSignature {
  name: string;
  input?: z.ZodType;
  output?: z.ZodType;
}

/**
 * A peer generated code may call, as far as its contract goes: the code was written against these schemas (it reads
 * the reply's fields, it builds the message), so a change in them makes the code another code's.
 */
export interface PeerSignature {
  role: string;
  inputSchema: Record<string, unknown> | null;
  outputSchema: Record<string, unknown> | null;
}

/** Nesting below which objects and arrays are only "object" / "array": a bound on the work per task. */
export const MAX_SHAPE_DEPTH = 8;
/** Items of an array whose shapes are read: a 10,000-row table costs no more than a 64-row one. */
export const MAX_SHAPE_ITEMS = 64;

/** JSON Schema text per schema object: a tool's schemas are read for every task, but converted once. */
const schemaTexts = new WeakMap<object, string>();

function schemaText(schema: z.ZodType): string {
  let text = schemaTexts.get(schema);
  if (text === undefined) {
    text = stableJson(toJsonSchema(schema));
    schemaTexts.set(schema, text);
  }
  return text;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

const ENVELOPE_STATUSES = new Set(['success', 'failure', 'skipped']);

/**
 * A task envelope (a workflow dependency's result, under its step id and in `previousStepResults`). Its fields have
 * declared types (DESIGN.md section 3) whose values vary from run to run (`provider` is null when the step came
 * from the registry, a string when a model wrote it), so only its output's shape counts.
 */
function isEnvelope(value: Record<string, unknown>): boolean {
  return (
    typeof value.status === 'string'
    && ENVELOPE_STATUSES.has(value.status)
    && 'output' in value
    && typeof value.resultId === 'string'
    && typeof value.agentId === 'string'
    && Array.isArray(value.attempts)
    && typeof value.cached === 'boolean'
    && value.tokens !== null
    && typeof value.tokens === 'object'
  );
}

/**
 * The shape of a JSON value as text: types and object keys (sorted), never values. An array's shape is the set of
 * its items' shapes (so its length does not count; an empty array is `[]`). Nesting deeper than
 * {@link MAX_SHAPE_DEPTH} counts as plain "object" or "array".
 */
export function shapeOf(value: unknown, depth = 0): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  // The sandbox gets a JSON copy: a value with toJSON (a Date) has the shape of what it turns into.
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return shapeOf(toJSON.call(value), depth);
  if (depth >= MAX_SHAPE_DEPTH) return Array.isArray(value) ? 'array' : 'object';
  if (Array.isArray(value)) {
    const items = new Set(value.slice(0, MAX_SHAPE_ITEMS).map((item) => shapeOf(item, depth + 1)));
    return `[${[...items].sort().join('|')}]`;
  }
  const record = value as Record<string, unknown>;
  if (isEnvelope(record)) return `envelope(${shapeOf(record.output, depth + 1)})`;
  const fields = Object.keys(record)
    .filter((key) => record[key] !== undefined)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${shapeOf(record[key], depth + 1)}`);
  return `{${fields.join(',')}}`;
}

/** Hash of the context's shape: equal for contexts with the same keys and value types, whatever the values. */
export function contextShapeHash(context: unknown): string {
  return sha256(shapeOf(context ?? {}));
}

/**
 * Hash of the tools' names and signatures (argument and result schemas), in any order, and of the peers' contracts
 * when the code may call peers. Without peers it is the hash of the tools alone, as it was before agents had peers,
 * so code registered then is still found.
 */
export function toolsHash(tools: Iterable<ToolSignature>, peers: readonly PeerSignature[] = []): string {
  const signatures = [...tools]
    .map((tool) => ({
      name: tool.name,
      input: tool.input ? schemaText(tool.input) : null,
      output: tool.output ? schemaText(tool.output) : null,
    }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (peers.length === 0) return sha256(JSON.stringify(signatures));
  const contracts = [...peers]
    .sort((a, b) => (a.role < b.role ? -1 : a.role > b.role ? 1 : 0))
    .map((peer) => ({ role: peer.role, input: peer.inputSchema, output: peer.outputSchema }));
  return sha256(`tools+peers\0${JSON.stringify(signatures)}\0${stableJson(contracts)}`);
}

/** Hash of an output schema's JSON Schema; a fixed value when there is none. */
export function outputSchemaHash(schema: z.ZodType | undefined): string {
  return sha256(schema ? schemaText(schema) : 'no output schema');
}

/** Every dependency hash of one task. */
export function codeDependencies(input: {
  systemPrompt: string;
  context?: unknown;
  tools: Iterable<ToolSignature>;
  outputSchema?: z.ZodType;
  /** The peers the code may call that are on the mesh (none: the hash of the tools alone). */
  peers?: readonly PeerSignature[];
}): CodeDependencies {
  return {
    systemPromptHash: sha256(input.systemPrompt),
    contextShapeHash: contextShapeHash(input.context),
    toolsHash: toolsHash(input.tools, input.peers),
    outputSchemaHash: outputSchemaHash(input.outputSchema),
  };
}

/** One hash over all dependencies, in a fixed order; the third part of a task key. */
export function dependencyHash(dependencies: CodeDependencies): string {
  const { systemPromptHash, contextShapeHash: shape, toolsHash: tools, outputSchemaHash: schema } = dependencies;
  return sha256(`deps-v1\0${systemPromptHash}\0${shape}\0${tools}\0${schema}`);
}
