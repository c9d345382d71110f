/**
 * An agent's `mesh-catalog` entry and `mesh-registry` document, exactly as OpenAgentMesh writes them (`oam-wire.md`
 * §7, OAM main's `AgentContract.to_catalog_entry` / `to_registry_json`): the same keys in the same order, an
 * `inputSchema` / `outputSchema` in `skills[0]` only when the agent has one, `chunk_schema` for streamers and
 * publishers, `registered_at` in Python's `datetime.isoformat()` form, and the capability flags true to the shape
 * (Python callers refuse to call an agent whose flags say it cannot be called). automesh's own fields go under
 * `x-agentmesh['x-automesh']`, which OAM readers ignore.
 */
import type { AgentShape, CatalogEntry, RegistryDocument } from './contract-types.js';
import { subjects } from './wire.js';

type JsonSchema = Record<string, unknown>;

/** What the documents are built from, whatever kind of agent it is. */
export interface AgentDescriptor {
  name: string;
  description: string;
  version: string;
  tags: string[];
  shape: AgentShape;
  inputSchema: JsonSchema | null;
  /** Responders and triggers only. */
  outputSchema: JsonSchema | null;
  /** Streamers: the chunk type; publishers: the event type. */
  chunkSchema: JsonSchema | null;
  kind: 'function' | 'auto' | 'custom';
}

/** OAM's capability flags per shape (its docs' "Handler Shapes" table). */
export function capabilitiesOf(shape: AgentShape): { invocable: boolean; streaming: boolean } {
  switch (shape) {
    case 'responder':
    case 'trigger':
      return { invocable: true, streaming: false };
    case 'streamer':
      return { invocable: true, streaming: true };
    case 'publisher':
      return { invocable: false, streaming: true };
    case 'watcher':
      return { invocable: false, streaming: false };
  }
}

/** The catalog element: exactly `name, description, version, tags, invocable, streaming`, in that order. */
export function catalogEntryOf(agent: AgentDescriptor): CatalogEntry {
  const { invocable, streaming } = capabilitiesOf(agent.shape);
  return {
    name: agent.name,
    description: agent.description,
    version: agent.version,
    tags: [...agent.tags],
    invocable,
    streaming,
  };
}

export interface RegistrationInfo {
  registeredAt: Date;
  /** The automesh node (NODE_NAME) that registers the agent. */
  node: string;
  instanceId: string;
}

/** The registry document, key order as OAM writes it. */
export function registryDocumentOf(agent: AgentDescriptor, registration: RegistrationInfo): RegistryDocument {
  const { invocable, streaming } = capabilitiesOf(agent.shape);
  const skill: RegistryDocument['skills'][number] = {
    id: agent.name,
    name: agent.name,
    description: agent.description,
    tags: [...agent.tags],
  };
  // OAM writes a schema only when it has one (`if self.input_schema:`), and never an output schema for a streamer.
  if (agent.inputSchema && Object.keys(agent.inputSchema).length > 0) skill.inputSchema = agent.inputSchema;
  if (!streaming && agent.outputSchema && Object.keys(agent.outputSchema).length > 0) {
    skill.outputSchema = agent.outputSchema;
  }
  const extension: RegistryDocument['x-agentmesh'] = {
    subject: subjects.agent(agent.name),
    tags: [...agent.tags],
    registered_at: pythonIsoformat(registration.registeredAt),
  };
  if (streaming && agent.chunkSchema) extension.chunk_schema = agent.chunkSchema;
  extension['x-automesh'] = {
    shape: agent.shape,
    node: registration.node,
    instance_id: registration.instanceId,
    kind: agent.kind,
  };
  return {
    name: agent.name,
    description: agent.description,
    version: agent.version,
    capabilities: { streaming, invocable },
    skills: [skill],
    'x-agentmesh': extension,
  };
}

/**
 * `datetime.now(timezone.utc).isoformat()`: `2026-11-30T21:35:38.574868+00:00`. A Date holds milliseconds; the
 * microseconds below them come from the monotonic clock, so two registrations in one millisecond still differ.
 * Python leaves the fraction out when it is zero, and so does this.
 */
export function pythonIsoformat(date: Date, micros = Number(process.hrtime.bigint() / 1000n) % 1000): string {
  const fraction = date.getUTCMilliseconds() * 1000 + micros;
  const seconds = date.toISOString().slice(0, 19);
  return fraction === 0 ? `${seconds}+00:00` : `${seconds}.${String(fraction).padStart(6, '0')}+00:00`;
}
