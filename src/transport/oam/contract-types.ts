/**
 * What the mesh knows about an agent, in OpenAgentMesh's documents (`oam-wire.md` §7) and in the camelCase view
 * automesh users get from `mesh.contract()` / `mesh.catalog()`.
 */

/**
 * How an agent is invoked, inferred from its handler as OAM does: a responder answers a call; a streamer yields
 * chunks to a stream request; a trigger is a responder that takes no input; a publisher takes no input and yields
 * events on `mesh.agent.{name}.events`; a watcher reacts to what it subscribes to and is not invocable.
 */
export type AgentShape = 'responder' | 'streamer' | 'trigger' | 'publisher' | 'watcher';

/** One element of the `mesh-catalog` array: exactly these six fields, in this order (no `channel`). */
export interface CatalogEntry {
  name: string;
  description: string;
  version: string;
  tags: string[];
  invocable: boolean;
  streaming: boolean;
}

type JsonSchema = Record<string, unknown>;

/** The `mesh-registry` document of one agent: an A2A card plus an `x-agentmesh` block. */
/** The two flags that say which verbs an agent takes (`capability-check.ts`). */
export type CatalogCapabilities = Readonly<Pick<CatalogEntry, 'invocable' | 'streaming'>>;

export interface RegistryDocument {
  name: string;
  description: string;
  version: string;
  capabilities: { streaming: boolean; invocable: boolean };
  skills: Array<{
    id: string;
    name: string;
    description: string;
    tags: string[];
    inputSchema?: JsonSchema;
    /** Responders only. */
    outputSchema?: JsonSchema;
  }>;
  'x-agentmesh': {
    subject: string;
    tags: string[];
    /** ISO 8601 with an offset, as Python's `datetime.isoformat()` writes it. */
    registered_at: string;
    /** Streamers: the chunk type; publishers: the event type. */
    chunk_schema?: JsonSchema;
    /** automesh's own fields; OAM ignores unknown keys. */
    'x-automesh'?: { shape: AgentShape; node: string; instance_id: string; kind: 'function' | 'auto' | 'custom' };
    [extra: string]: unknown;
  };
}

/** `mesh.contract(name)`: the registry document, read for people and programs. */
export interface AgentContract {
  name: string;
  description: string;
  version: string;
  tags: string[];
  /** automesh's shape when an automesh host wrote it; otherwise inferred from the capability flags. */
  shape: AgentShape;
  invocable: boolean;
  streaming: boolean;
  inputSchema: JsonSchema | null;
  outputSchema: JsonSchema | null;
  chunkSchema: JsonSchema | null;
  subject: string;
  registeredAt: string;
  /** The node that registered it, when an automesh host did. */
  node: string | null;
  /**
   * What automesh serves under the name: `auto` (an AutoAgent: takes `{ task, context? }`, answers with its
   * envelope), `custom` (a CustomAgent) or `function` (a function agent); null when another host registered it.
   */
  kind: 'function' | 'auto' | 'custom' | null;
}
