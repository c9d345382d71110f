/**
 * Function agents: an async function with a spec, served on the mesh under its name (OpenAgentMesh's "Agents" page,
 * `docs/concepts/agents.md` on OAM main). The shape is inferred from the handler and the spec, the way OAM infers it
 * from the handler's signature and type hints (its `inspect_handler`, ADR-0031/0042/0043): OAM's type hints are our
 * zod schemas, OAM's `async def` vs `async def … yield` is our `async function` vs `async function*`.
 *
 * | shape     | handler                                   | spec            | invocable | streaming | contract                           |
 * | responder | `async (input, ctx) => out`               | input (+output) | yes       | no        | inputSchema (+outputSchema)        |
 * | streamer  | `async function* (input, ctx) { yield }`  | input (+output) | yes       | yes       | inputSchema, chunk_schema = output |
 * | trigger   | `async (ctx) => out`                      | output, no input| yes       | no        | outputSchema; called with no body  |
 * | publisher | `async function* (ctx) { yield }`         | no input        | no        | yes       | chunk_schema = the event type      |
 * | watcher   | `async (ctx) => void`                     | no input/output | no        | no        | neither; a background task         |
 *
 * What OAM says of each (and automesh does the same): a responder answers a call; a streamer answers a stream request
 * with chunks; a trigger takes no input but declares an output, so "the call itself is the signal" and it is served
 * like a responder; a publisher takes no input and yields events on `mesh.agent.{name}.events`, started when the
 * agent is served and stopped (with an End frame) when it stops; a watcher has "no input, no output, no yield", runs
 * as a background task that does its own watching (a subscription, a KV watch), is in the catalog with both flags
 * false and is never invoked. OAM records the shape only through the two capability flags; automesh also writes it
 * as `x-agentmesh['x-automesh'].shape`.
 *
 * Input is validated before the handler runs (`invalid_input`, with the issues in pydantic's shape so Python callers
 * read them as from a Python agent); output, chunks and events are validated against the output schema
 * (`invalid_output`). Names are checked when the agent is defined (`invalid_definition`).
 */

import { z } from 'zod';
import { andThen } from '../../core/maybe-async.js';
import type { AgentInfrastructure } from '../../infra/agent-infra.js';
import { catalogEntry as checkedCatalogEntry } from './catalog-document.js';
import type { AgentShape, CatalogEntry, RegistryDocument } from './contract-types.js';
import { MeshError } from './mesh-error.js';
import { buildRegistryDocument, capabilitiesOf } from './registry-document.js';
import type { SubscribeOptions, SubscribeTarget } from './subscription.js';
import { pydanticErrors } from './validation-errors.js';
import { agentNameProblem } from './wire.js';

type JsonSchema = Record<string, unknown>;
type Schema = z.ZodType;

/** What a handler gets besides its input. */
export interface AgentContext {
  /** The agent's name. */
  readonly agent: string;
  /** The request's `X-Mesh-Request-Id` ('' for publishers and watchers, and for a request that sent none). */
  readonly requestId: string;
  /** The request's headers (empty for publishers and watchers): what a session or another extension carries. */
  readonly headers: Readonly<Record<string, string>>;
  /**
   * Aborted when the agent stops: at once for publishers and watchers, after the drain time for a request still
   * running. A long handler should pass it on (to fetch, to a model call) or check it.
   */
  readonly signal: AbortSignal;
  /** Messages on the mesh (an agent's events, a channel, a subject), ending when the agent stops. */
  subscribe(target: SubscribeTarget, options?: Omit<SubscribeOptions, 'signal'>): AsyncIterable<unknown>;
  /** Shared key-value state on the mesh (`mesh-context`, shared with OpenAgentMesh's Python agents). */
  readonly kv: AgentInfrastructure['kv'];
  /** Blobs shared by the mesh's agents (a local directory in one process, an object store on NATS). */
  readonly blobs: AgentInfrastructure['blobs'];
  /** This agent's mailbox: `send(role, message)` to any role, `receive()` the messages sent to this agent's name. */
  readonly mailbox: AgentInfrastructure['mailbox'];
}

export interface FunctionAgentSpec<I extends Schema | undefined = undefined, O extends Schema | undefined = undefined> {
  /** Dotted name, each segment `[a-zA-Z0-9_-]+`; the leading segments are the channel (`nlp.summarizer`). */
  name: string;
  /** What it does, for people and for models choosing a tool; required (OAM's catalog readers need it). */
  description: string;
  /** Default `0.1.0`, as OAM's AgentSpec. */
  version?: string;
  tags?: string[];
  /** The input: present for responders and streamers, absent for triggers, publishers and watchers. */
  input?: I;
  /** A responder's or trigger's output, a streamer's chunk, a publisher's event. */
  output?: O;
}

type Produced<O> = O extends Schema ? z.input<O> : unknown;
type Received<I> = I extends Schema ? z.output<I> : never;

/** The handler a spec takes: with an input schema `(input, ctx)`, without one `(ctx)`; `async function*` streams. */
export type FunctionAgentHandler<I extends Schema | undefined, O extends Schema | undefined> = I extends Schema
  ?
      | ((input: Received<I>, context: AgentContext) => Promise<Produced<O>> | Produced<O>)
      | ((input: Received<I>, context: AgentContext) => AsyncIterable<Produced<O>>)
  :
      | ((context: AgentContext) => Promise<Produced<O>> | Produced<O>)
      | ((context: AgentContext) => AsyncIterable<Produced<O>>);

/** The handler as the provider calls it. */
export type AnyHandler = (...args: unknown[]) => unknown;

const DEFAULT_VERSION = '0.1.0';

/** Who registers an agent, and when: what its registry document records besides the agent itself. */
export interface RegistrationInfo {
  /** The automesh node (NODE_NAME). */
  node: string;
  instanceId: string;
  /** Default: now. */
  registeredAt?: Date;
}

export class FunctionAgent {
  /** What serves it, recorded in the contract: your handler (`function`), an AutoAgent (`auto`), a CustomAgent. */
  readonly kind: 'function' | 'auto' | 'custom';
  readonly name: string;
  readonly description: string;
  readonly version: string;
  readonly tags: string[];
  readonly shape: AgentShape;
  readonly inputSchema: JsonSchema | null;
  readonly outputSchema: JsonSchema | null;
  readonly chunkSchema: JsonSchema | null;
  readonly handler: AnyHandler;
  readonly #input: Schema | undefined;
  readonly #output: Schema | undefined;

  constructor(
    spec: FunctionAgentSpec<Schema | undefined, Schema | undefined>,
    handler: AnyHandler,
    kind: 'function' | 'auto' | 'custom' = 'function',
  ) {
    this.kind = kind;
    this.name = checkedName(spec?.name);
    this.description = checkedDescription(this.name, spec.description);
    this.version = checkedVersion(this.name, spec.version);
    this.tags = checkedTags(this.name, spec.tags);
    this.#input = checkedSchema(this.name, 'input', spec.input);
    this.#output = checkedSchema(this.name, 'output', spec.output);
    this.handler = checkedHandler(this.name, handler);
    this.shape = shapeOf(isAsyncGeneratorFunction(handler), this.#input !== undefined, this.#output !== undefined);
    this.inputSchema = this.#input ? jsonSchemaOf(this.name, 'input', this.#input) : null;
    const outputJson = this.#output ? jsonSchemaOf(this.name, 'output', this.#output) : null;
    const streams = this.shape === 'streamer' || this.shape === 'publisher';
    this.outputSchema = streams ? null : outputJson;
    this.chunkSchema = streams ? outputJson : null;
  }

  get invocable(): boolean {
    return capabilitiesOf(this.shape).invocable;
  }

  get streaming(): boolean {
    return capabilitiesOf(this.shape).streaming;
  }

  /** Whether the handler takes an input (responders and streamers). */
  get takesInput(): boolean {
    return this.#input !== undefined;
  }

  /** The `mesh-catalog` element: exactly OAM's six fields, flags true to the shape. */
  catalogEntry(): CatalogEntry {
    const { name, description, version, tags, invocable, streaming } = this;
    return checkedCatalogEntry({ name, description, version, tags, invocable, streaming });
  }

  /** The `mesh-registry` document, as OAM writes it; automesh's fields under `x-agentmesh['x-automesh']`. */
  registryDocument(registration: RegistrationInfo): RegistryDocument {
    return buildRegistryDocument({ ...this.#descriptor(), ...registration, kind: this.kind });
  }

  #descriptor() {
    const { name, description, version, tags, shape, inputSchema, outputSchema, chunkSchema } = this;
    return { name, description, version, tags, shape, inputSchema, outputSchema, chunkSchema };
  }

  /**
   * The input the handler gets: the body parsed by the input schema (defaults applied). An empty body is "no input"
   * (`undefined`), which only a schema that accepts `undefined` lets through. Rejects with `invalid_input`.
   */
  async parseInput(input: unknown, requestId: string): Promise<unknown> {
    return this.inputOf(input, requestId);
  }

  /** A result, chunk or event checked by the output schema (what is sent is what the schema makes of it). */
  async parseOutput(value: unknown, requestId: string): Promise<unknown> {
    return this.outputOf(value, requestId);
  }

  /**
   * `parseInput` without a promise when the schema needs none (most do not): the parsed input, or a promise of it
   * for a schema with async parts. Throws (or rejects with) `invalid_input`. Serving a request uses this one: a
   * promise per check was a tenth of what serving cost.
   */
  inputOf(input: unknown, requestId: string): unknown {
    if (this.#input === undefined) return undefined;
    return andThen(parseWith(this.#input, input), (result) => this.#inputOrThrow(result, input, requestId));
  }

  /** `parseOutput` without a promise when the schema needs none; throws (or rejects with) `invalid_output`. */
  outputOf(value: unknown, requestId: string): unknown {
    if (this.#output === undefined) return value;
    return andThen(parseWith(this.#output, value), (result) => this.#outputOrThrow(result, value, requestId));
  }

  #inputOrThrow(result: SafeParse, input: unknown, requestId: string): unknown {
    if (result.success) return result.data;
    const hint =
      input === undefined
        ? ' (the request had no body: send the input as JSON, `{}` for an object with no required fields)'
        : '';
    throw new MeshError('invalid_input', `Input failed validation for agent '${this.name}'${hint}`, {
      agent: this.name,
      requestId,
      details: { errors: pydanticErrors(result.error.issues, input, this.inputSchema) },
    });
  }

  #outputOrThrow(result: SafeParse, value: unknown, requestId: string): unknown {
    if (result.success) return result.data;
    const what = this.shape === 'streamer' ? 'a chunk' : this.shape === 'publisher' ? 'an event' : 'output';
    throw new MeshError(
      'invalid_output',
      `Agent '${this.name}' produced ${what} that fails its output schema; fix the handler or the schema`,
      {
        agent: this.name,
        requestId,
        details: { errors: pydanticErrors(result.error.issues, value, this.chunkSchema ?? this.outputSchema) },
      },
    );
  }
}

type SafeParse = ReturnType<Schema['safeParse']>;

/**
 * Defines a function agent, checking the spec at once: a bad name, a missing description, a schema that is not a
 * zod schema or cannot be written as JSON Schema, a handler that is not a function: `invalid_definition`.
 */
export function defineFunctionAgent<I extends Schema | undefined = undefined, O extends Schema | undefined = undefined>(
  spec: FunctionAgentSpec<I, O>,
  handler: FunctionAgentHandler<I, O>,
): FunctionAgent {
  return new FunctionAgent(spec, handler as AnyHandler);
}

/** OAM's shape rules, with our schemas standing for its type hints. */
function shapeOf(generator: boolean, hasInput: boolean, hasOutput: boolean): AgentShape {
  if (generator) return hasInput ? 'streamer' : 'publisher';
  if (hasInput) return 'responder';
  return hasOutput ? 'trigger' : 'watcher';
}

function isAsyncGeneratorFunction(fn: unknown): boolean {
  return Object.prototype.toString.call(fn) === '[object AsyncGeneratorFunction]';
}

function definitionError(name: string, message: string): MeshError {
  return new MeshError('invalid_definition', message, { agent: name });
}

function checkedName(name: unknown): string {
  const problem = agentNameProblem(name);
  if (problem !== null) {
    throw definitionError(
      typeof name === 'string' ? name : '',
      `Cannot define the agent: ${problem}. Use dotted segments of letters, digits, "_" and "-", e.g. "nlp.summarizer".`,
    );
  }
  return name as string;
}

function checkedDescription(name: string, description: unknown): string {
  if (typeof description !== 'string' || description.trim() === '') {
    throw definitionError(
      name,
      `Agent "${name}" needs a description (a non-empty string): the catalog lists it, and OpenAgentMesh peers skip an entry without one.`,
    );
  }
  return description;
}

function checkedVersion(name: string, version: unknown): string {
  if (version === undefined) return DEFAULT_VERSION;
  if (typeof version !== 'string' || version.trim() === '') {
    throw definitionError(name, `Agent "${name}": version must be a non-empty string such as "1.0.0".`);
  }
  return version;
}

function checkedTags(name: string, tags: unknown): string[] {
  if (tags === undefined) return [];
  if (!Array.isArray(tags) || tags.some((tag) => typeof tag !== 'string')) {
    throw definitionError(name, `Agent "${name}": tags must be an array of strings.`);
  }
  return [...tags];
}

/** Schemas that turned out to need `safeParseAsync` (an async refinement or transform). */
const asyncSchemas = new WeakSet<Schema>();

/**
 * `schema`'s verdict on `value`: synchronously when the schema allows it (most do; `safeParseAsync` costs zod's
 * promises on every request and every result), else, from the first value that shows it has async parts (zod's
 * `safeParse` then throws rather than answer), asynchronously. A throw of the schema's own code (a refinement that
 * throws) is thrown by either; that one is parsed again asynchronously, and throws there as it would have.
 */
function parseWith(schema: Schema, value: unknown): SafeParse | Promise<SafeParse> {
  if (!asyncSchemas.has(schema)) {
    try {
      return schema.safeParse(value);
    } catch {
      asyncSchemas.add(schema);
    }
  }
  return schema.safeParseAsync(value);
}

function checkedSchema(name: string, which: 'input' | 'output', schema: unknown): Schema | undefined {
  if (schema === undefined) return undefined;
  // Duck-typed rather than instanceof: the user's project may hold its own copy of zod 4.
  const zodLike = typeof schema === 'object' && schema !== null && '_zod' in schema && 'safeParseAsync' in schema;
  if (!zodLike) {
    throw definitionError(name, `Agent "${name}": ${which} must be a zod schema (e.g. z.object({ … })).`);
  }
  return schema as Schema;
}

function checkedHandler(name: string, handler: unknown): AnyHandler {
  if (typeof handler !== 'function') {
    throw definitionError(name, `Agent "${name}": the handler must be a function.`);
  }
  if (Object.prototype.toString.call(handler) === '[object GeneratorFunction]') {
    throw definitionError(
      name,
      `Agent "${name}": the handler is a synchronous generator; declare it \`async function*\` to stream.`,
    );
  }
  return handler as AnyHandler;
}

/** The JSON Schema a caller sees: zod's, without its `$schema` line (pydantic's schemas have none). */
function jsonSchemaOf(name: string, which: 'input' | 'output', schema: Schema): JsonSchema {
  try {
    const { $schema: _draft, ...rest } = z.toJSONSchema(schema, { io: which }) as JsonSchema;
    return rest;
  } catch (err) {
    throw definitionError(
      name,
      `Agent "${name}": the ${which} schema cannot be written as JSON Schema (${(err as Error).message}); callers on `
        + 'other machines and languages read it, so use JSON types (strings for dates, no transforms to non-JSON values).',
    );
  }
}
