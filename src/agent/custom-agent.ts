/**
 * CustomAgent (DESIGN.md §10, JarvisCore's CustomAgent): an agent that wraps your own code, no code generation. It is
 * served on the mesh under its role (kind `custom`, its capabilities as tags), in one process and over NATS alike:
 * `onPeerRequest` answers `peers.ask` (its return value is the reply), `onPeerNotify` takes `peers.notify`, `run`
 * is an optional loop that runs from `mesh.start()` until `mesh.stop()` aborts its signal, and `executeTask` makes it
 * a workflow step. It has `this.peers`, `this.kv`, `this.blobs`, `this.mailbox` while the mesh runs.
 *
 *     class Triage extends CustomAgent {
 *       static role = 'triage';
 *       static capabilities = ['support'];
 *       static description = 'Routes a ticket to a specialist';
 *       async onPeerRequest(msg: { ticket: string }) {
 *         return this.peers.ask('billing', msg);
 *       }
 *     }
 */
import { randomBytes } from 'node:crypto';
import { findNonJsonData } from '../codegen/json-data.js';
import { type AgentInfrastructure, notStartedInfrastructure } from '../infra/agent-infra.js';
import { observeTask } from '../telemetry/task-telemetry.js';
import type { Telemetry } from '../telemetry/telemetry.js';
import { MeshError } from '../transport/oam/mesh-error.js';
import { agentNameProblem } from '../transport/oam/wire.js';
import { type Envelope, type EnvelopeErrorCategory, ZERO_TOKENS } from './envelope.js';
import type { Peers } from './peers.js';
import { checkedSession, currentSession, type Session, type SessionInput, withSession } from './session.js';
import { newResultId } from './task-run.js';

/** What a handler gets besides the message. */
export interface PeerContext {
  /** The session this request belongs to; peer calls made while handling it carry it on. */
  readonly session: Session;
  /** The request's id ('' for a task run here). */
  readonly requestId: string;
  /** Aborted when the mesh stops while the request is still being handled. */
  readonly signal: AbortSignal;
}

/** A workflow step's (or a caller's) task for a CustomAgent. */
export interface CustomTaskInput {
  task: string;
  context?: Record<string, unknown>;
  stepId?: string;
  signal?: AbortSignal;
  session?: SessionInput;
}

export type CustomAgentClass = (new () => CustomAgent) & {
  role: string;
  capabilities?: readonly string[];
  description?: string;
};

export class CustomAgent {
  /** The name it is served under (dotted segments of letters, digits, `_`, `-`). */
  static role: string;
  /** Tags in the catalog: what `peers.discover({ capability })` and workflow steps find it by. */
  static capabilities: readonly string[] = [];
  static description = '';

  readonly role: string;
  readonly capabilities: readonly string[];
  readonly description: string;
  /** Unique per instance: `<role>-<8 hex>`. */
  readonly agentId: string;
  #peers: Peers | null = null;
  #infra: AgentInfrastructure;
  #telemetry: Telemetry | undefined;

  constructor() {
    const statics = new.target as unknown as CustomAgentClass;
    const problem = agentNameProblem(statics.role);
    if (problem !== null) {
      throw new MeshError(
        'invalid_definition',
        `CustomAgent class ${statics.name}: static role ${problem}. Set e.g. \`static role = 'triage';\`.`,
        { agent: typeof statics.role === 'string' ? statics.role : '' },
      );
    }
    const capabilities = statics.capabilities ?? [];
    if (!Array.isArray(capabilities) || capabilities.some((c) => typeof c !== 'string' || c.trim() === '')) {
      throw new MeshError(
        'invalid_definition',
        `CustomAgent "${statics.role}": static capabilities must be an array of non-empty strings.`,
        { agent: statics.role },
      );
    }
    this.role = statics.role;
    this.capabilities = Object.freeze([...capabilities]);
    this.description = statics.description?.trim() || `CustomAgent "${statics.role}".`;
    this.agentId = `${this.role}-${randomBytes(4).toString('hex')}`;
    this.#infra = notStartedInfrastructure(`Agent "${this.role}"`, 'this');
  }

  /** The other agents of the mesh: ask, notify, broadcast, discover; after start. */
  get peers(): Peers {
    if (!this.#peers) {
      throw new Error(
        `Agent "${this.role}": this.peers is available after mesh.start(); add the agent to a Mesh and await mesh.start() first.`,
      );
    }
    return this.#peers;
  }

  get kv(): AgentInfrastructure['kv'] {
    return this.#infra.kv;
  }

  get blobs(): AgentInfrastructure['blobs'] {
    return this.#infra.blobs;
  }

  get mailbox(): AgentInfrastructure['mailbox'] {
    return this.#infra.mailbox;
  }

  /** Called once by `mesh.start()` before the agent takes requests (open connections, load data). */
  async setup(): Promise<void> {}

  /** Called once by `mesh.stop()` after the agent has stopped taking requests and its `run` has ended. */
  async teardown(): Promise<void> {}

  /** Answers `peers.ask`: the return value (JSON data) is the reply; a throw is the caller's `handler_error`. */
  async onPeerRequest(_message: unknown, _context: PeerContext): Promise<unknown> {
    throw new MeshError(
      'handler_error',
      `Agent "${this.role}" takes no requests: its class defines no onPeerRequest(message, ctx).`,
      { agent: this.role },
    );
  }

  /** Takes `peers.notify` (nothing is sent back). The default reports the message as unhandled. */
  async onPeerNotify(_message: unknown, _context: PeerContext): Promise<void> {
    process.emitWarning(
      `Agent "${this.role}" got a notification but its class defines no onPeerNotify(message, ctx); it was dropped.`,
      { code: 'AUTOMESH_MESH' },
    );
  }

  /** Optional: a long-running loop, started after `mesh.start()`; `signal` aborts on `mesh.stop()`. */
  run?(signal: AbortSignal): Promise<void>;

  /**
   * Runs a task as a workflow step does: `onPeerRequest({ task, context }, ctx)`, its return value the envelope's
   * output (no code, no model). A throw or a non-JSON result is a failure envelope, never a throw; a throw after
   * `signal` aborted is one with category `cancelled`.
   */
  executeTask(input: CustomTaskInput): Promise<Envelope> {
    const run = (): Promise<Envelope> => this.#runTask(input);
    // The same task span and task metrics as an AutoAgent's (GenAI's `invoke_agent`), so a trace and /metrics show
    // a CustomAgent step like any other; a mesh with telemetry off runs it bare.
    if (!this.#telemetry) return run();
    const what = { role: this.role, task: input.task, ...(input.stepId !== undefined ? { stepId: input.stepId } : {}) };
    return observeTask(what, this.#telemetry, run);
  }

  async #runTask(input: CustomTaskInput): Promise<Envelope> {
    const started = performance.now();
    const session = input.session
      ? checkedSession(input.session, this.role)
      : (currentSession() ?? checkedSession({}, this.role));
    const context: PeerContext = { session, requestId: '', signal: input.signal ?? new AbortController().signal };
    const done = (fields: Pick<Envelope, 'status' | 'output' | 'error' | 'errorCategory'>): Envelope => ({
      ...fields,
      code: null,
      repairs: 0,
      executionTime: (performance.now() - started) / 1000,
      tokens: { ...ZERO_TOKENS },
      costUsd: 0,
      resultId: newResultId(),
      functionId: null,
      attempts: [],
      cached: false,
      logs: [],
      agentId: this.agentId,
      role: this.role,
      provider: null,
      model: null,
      ...(input.stepId !== undefined ? { stepId: input.stepId } : {}),
    });
    const failed = (error: string, category: EnvelopeErrorCategory): Envelope =>
      done({ status: 'failure', output: null, error, errorCategory: category });
    let output: unknown;
    try {
      output = await withSession(session, () =>
        this.onPeerRequest({ task: input.task, context: input.context ?? {} }, context),
      );
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      // Stopped from outside (the workflow cancelled the step, or the mesh stopped): not the agent's failure, and in
      // distributed mode a step its node's stop cancelled runs again on another node.
      if (context.signal.aborted)
        return failed(`Agent "${this.role}" was stopped during the task: ${why}`, 'cancelled');
      return failed(`Agent "${this.role}" failed the task: ${why}`, 'runtime');
    }
    const problem = findNonJsonData(output, 'output');
    if (problem !== null)
      return failed(`Agent "${this.role}" returned something that is not JSON data: ${problem}`, 'output');
    return done({ status: 'success', output: output ?? null, error: null, errorCategory: null });
  }

  /** @internal Connects the agent to a started mesh (or disconnects it with null). */
  attach(peers: Peers | null, infra?: AgentInfrastructure, telemetry?: Telemetry): void {
    this.#peers = peers;
    this.#infra = peers && infra ? infra : notStartedInfrastructure(`Agent "${this.role}"`, 'this');
    this.#telemetry = peers ? telemetry : undefined;
  }
}

/** Whether a value is a class extending CustomAgent. */
export function isCustomAgentClass(value: unknown): value is CustomAgentClass {
  return typeof value === 'function' && value.prototype instanceof CustomAgent;
}
