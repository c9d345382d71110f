/**
 * AutoAgent: an agent defined by a role, capabilities and a system prompt, that answers tasks by having the
 * model write code (see `pipeline.ts`). Subclass it with static fields, or pass a `defineAgent` object to
 * `mesh.add`.
 *
 * @example
 * class CalculatorAgent extends AutoAgent {
 *   static role = 'calculator';
 *   static capabilities = ['math', 'calculations'];
 *   static systemPrompt = 'You are a math expert. Store the answer in `result`.';
 * }
 */
import { randomBytes } from 'node:crypto';
import type { z } from 'zod';
import { type AgentInfrastructure, notStartedInfrastructure } from '../infra/agent-infra.js';
import type { CodeModel } from '../llm/code-model.js';
import type { LlmRoute } from '../llm/route.js';
import { normalizeTools, type ToolDefinition, type ToolsInput } from '../sandbox/tools.js';
import { modelOf } from './agent-llm.js';
import { type AgentDefinition, validateAgentDefinition } from './definition.js';
import type { Envelope } from './envelope.js';
import type { Peers } from './peers.js';
import { type AgentRuntime, runTask, type TaskInput } from './pipeline.js';
import { PEERS_NAMESPACE } from './sandbox-peers.js';

export interface AgentOptions {
  /** Host functions the agent's generated code may call. */
  tools?: ToolsInput;
}

export class AutoAgent {
  static role?: string;
  static capabilities?: string[];
  static systemPrompt?: string;
  static description?: string;
  /** This agent's own provider order and models (see `AgentDefinition.llm`). */
  static llm?: LlmRoute;
  /** A zod 4 schema every result must match; a task's own `outputSchema` overrides it. */
  static outputSchema?: z.ZodType;
  /** The peers its generated code may call (see `AgentDefinition.peers`), e.g. `['analyst', 'nlp.*']`. */
  static peers?: string[];

  readonly definition: AgentDefinition;
  /** Unique per agent instance: `<role>-<8 hex>`. */
  readonly agentId: string;
  readonly tools: ReadonlyMap<string, ToolDefinition>;
  private runtime: AgentRuntime | null = null;
  private infra: AgentInfrastructure;
  private peerClient: Peers | null = null;

  constructor(definition?: AgentDefinition, options: AgentOptions = {}) {
    const statics = new.target as typeof AutoAgent;
    this.definition = definition
      ? validateAgentDefinition(definition)
      : validateAgentDefinition(
          {
            role: statics.role,
            capabilities: statics.capabilities,
            systemPrompt: statics.systemPrompt,
            description: statics.description,
            llm: statics.llm,
            outputSchema: statics.outputSchema,
            peers: statics.peers,
          },
          `agent class ${statics.name}`,
        );
    this.agentId = `${this.definition.role}-${randomBytes(4).toString('hex')}`;
    this.tools = normalizeTools(options.tools);
    checkPeersNamespace(this.definition, this.tools);
    this.infra = this.notStarted();
  }

  get role(): string {
    return this.definition.role;
  }

  get capabilities(): readonly string[] {
    return this.definition.capabilities;
  }

  get systemPrompt(): string {
    return this.definition.systemPrompt;
  }

  /** @internal The model this agent calls (its own `llm` route, or the mesh's); after start. */
  get llmChain(): CodeModel {
    if (!this.runtime)
      throw new Error(`Agent "${this.role}" is not running: add it to a Mesh and await mesh.start() first.`);
    return modelOf(this.runtime, this.role);
  }

  /** Shared key-value state on the mesh (`mesh-context`, shared with OpenAgentMesh's Python agents); after start. */
  get kv(): AgentInfrastructure['kv'] {
    return this.infra.kv;
  }

  /** Blobs shared by the mesh's agents (`<LOG_DIRECTORY>/blobs` in one process, an object store on NATS); after start. */
  get blobs(): AgentInfrastructure['blobs'] {
    return this.infra.blobs;
  }

  /** This agent's mailbox: `send(role, message)` to any role, `receive()` the messages sent to its role; after start. */
  get mailbox(): AgentInfrastructure['mailbox'] {
    return this.infra.mailbox;
  }

  /** The other agents of the mesh: ask, notify, broadcast, discover (`Peers`); after start. */
  get peers(): Peers {
    if (!this.peerClient) {
      throw new Error(
        `Agent "${this.role}": this.peers is available after mesh.start(); add the agent to a Mesh and await mesh.start() first.`,
      );
    }
    return this.peerClient;
  }

  /** @internal Connects the agent to a started mesh, with what the mesh gives it (or disconnects it with null). */
  attach(runtime: AgentRuntime | null, infra?: AgentInfrastructure, peers?: Peers): void {
    this.runtime = runtime;
    this.infra = runtime && infra ? infra : this.notStarted();
    this.peerClient = runtime ? (peers ?? null) : null;
  }

  private notStarted(): AgentInfrastructure {
    return notStartedInfrastructure(`Agent "${this.role}"`, 'this');
  }

  /**
   * Runs one task and returns its envelope. Never throws for a task failure (the envelope says what went
   * wrong); throws only for programmer errors, such as calling it before `mesh.start()` or an empty task.
   */
  executeTask(input: TaskInput): Promise<Envelope> {
    if (!this.runtime) return Promise.reject(this.notRunning());
    const runtime = this.runtime;
    let release: () => void;
    try {
      release = runtime.admitTask?.(typeof input?.id === 'string' ? input.id : undefined) ?? (() => undefined);
    } catch (err) {
      return Promise.reject(err);
    }
    return runtime.track(this.run(runtime, input).finally(release));
  }

  /**
   * @internal A workflow step. Admitted with its workflow: a workflow that `mesh.stop()` waits for still starts
   * its remaining steps.
   */
  executeStep(input: TaskInput): Promise<Envelope> {
    if (!this.runtime) return Promise.reject(this.notRunning());
    return this.runtime.track(this.run(this.runtime, input));
  }

  private run(runtime: AgentRuntime, input: TaskInput): Promise<Envelope> {
    return runTask(
      {
        agentId: this.agentId,
        role: this.role,
        capabilities: [...this.capabilities],
        systemPrompt: this.systemPrompt,
        tools: this.tools,
        outputSchema: this.definition.outputSchema,
        ...(this.definition.peers?.length && this.peerClient
          ? { peerAccess: { patterns: this.definition.peers, peers: this.peerClient } }
          : {}),
      },
      runtime,
      input,
    );
  }

  private notRunning(): Error {
    return new Error(
      `Agent "${this.role}" is not running: add it to a Mesh and await mesh.start() before executeTask().`,
    );
  }
}

/** Generated code of an agent with peers has a `peers` namespace of its own; a tool there would be hidden by it. */
function checkPeersNamespace(definition: AgentDefinition, tools: ReadonlyMap<string, ToolDefinition>): void {
  if (!definition.peers?.length) return;
  const clash = [...tools.keys()].find((name) => name.split('.')[0] === PEERS_NAMESPACE);
  if (clash === undefined) return;
  throw new TypeError(
    `Agent "${definition.role}": tool "${clash}" is in the namespace "${PEERS_NAMESPACE}", which generated code of an agent with peers uses to call them; rename the tool's namespace.`,
  );
}

/** A class extending AutoAgent (with static role, capabilities, systemPrompt). */
export type AgentClass = (new (
  definition?: AgentDefinition,
  options?: AgentOptions,
) => AutoAgent) & {
  role?: string;
  capabilities?: string[];
  systemPrompt?: string;
  outputSchema?: z.ZodType;
  peers?: string[];
};
