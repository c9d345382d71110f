/**
 * Mesh: holds agents, starts the parts they share (settings, provider chain, sandbox, storage, registry)
 * and stops them. Workflows build on it.
 */
import { resolve } from 'node:path';
import type { z } from 'zod';
import { agentModels } from '../agent/agent-llm.js';
import { type AgentClass, type AgentOptions, AutoAgent } from '../agent/auto-agent.js';
import { workflowBudget } from '../agent/budget.js';
import { type CustomAgent, type CustomAgentClass, isCustomAgentClass } from '../agent/custom-agent.js';
import { type AgentDefinition, validateAgentDefinition } from '../agent/definition.js';
import { Peers } from '../agent/peers.js';
import type { AgentRuntime } from '../agent/pipeline.js';
import { loadPromptTemplates } from '../codegen/prompts.js';
import { sandboxSettingsOf } from '../config/sandbox-settings.js';
import { loadSettings, type Settings, type SettingsInput } from '../config/settings.js';
import type { BlobStore } from '../infra/blob-store.js';
import type { MailboxSender } from '../infra/mailbox.js';
import type { CodeModel } from '../llm/code-model.js';
import { createCodeModel } from '../llm/create-model.js';
import { lazyCodeModel } from '../llm/lazy-model.js';
import { checkModelMiddleware, type ModelMiddleware, wrapModel } from '../llm/model-middleware.js';
import type { Provider } from '../llm/types.js';
import { CodeRegistry } from '../registry/index.js';
import { Executor } from '../sandbox/executor.js';
import { checkExecutorMiddleware, type ExecutorMiddleware, wrapExecutor } from '../sandbox/executor-middleware.js';
import {
  assertUsableDirectory,
  openBusStorage,
  openStorageFromSettings,
  type Storage,
  type WorkflowSnapshot,
  type WorkflowStore,
} from '../storage/index.js';
import { telemetryExecutorMiddleware } from '../telemetry/executor-telemetry.js';
import { MeshMetrics } from '../telemetry/metrics.js';
import { type MetricsServer, startMetricsServer } from '../telemetry/metrics-server.js';
import { telemetryModelMiddleware } from '../telemetry/model-telemetry.js';
import { type Telemetry, telemetryFor } from '../telemetry/telemetry.js';
import type { Bus, ConnectionEvent } from '../transport/bus.js';
import type { CallOptions, PublishOptions, SendOptions, StreamOptions } from '../transport/oam/caller.js';
import type { CatalogFilter } from '../transport/oam/catalog.js';
import type { AgentContract, CatalogEntry, RegistryDocument } from '../transport/oam/contract-types.js';
import {
  defineFunctionAgent,
  type FunctionAgent,
  type FunctionAgentHandler,
  type FunctionAgentSpec,
} from '../transport/oam/function-agent.js';
import { MeshError } from '../transport/oam/mesh-error.js';
import type { SharedKv } from '../transport/oam/shared-kv.js';
import type { SubscribeOptions, SubscribeTarget } from '../transport/oam/subscription.js';
import type { Workspace } from '../transport/oam/workspace.js';
import { startCustomAgents } from './custom-lifecycle.js';
import { customStepAgent } from './distributed/custom-step-agent.js';
import { Dispatch } from './distributed/dispatch.js';
import type { StepAgent } from './distributed/step-worker.js';
import { MeshEventEmitter } from './events.js';
import { InProcessStepRunner } from './in-process-runner.js';
import { MeshNetwork } from './network.js';
import { RemoteStepRunner } from './remote-runner.js';
import { RoutingStepRunner } from './routing-runner.js';
import { servedAutoAgent } from './served-auto-agent.js';
import { servedCustomAgent } from './served-custom-agent.js';
import { runWorkflow, type WorkflowOptions, type WorkflowPlan, type WorkflowResult } from './workflow-engine.js';
import { type AgentDirectory, checkWorkflowId, resolveWorkflow, type WorkflowStep } from './workflow-spec.js';
import { leaseTiming } from './workflow-state.js';

export interface MeshOptions {
  /**
   * `autonomous` (default): agents act on their own tasks; the mesh is in-process unless `NATS_URL` is set.
   * `distributed`: the mesh is on NATS, and `NATS_URL` must be set.
   */
  mode?: 'autonomous' | 'distributed';
  /**
   * The bus to use instead of the one the settings name (an isolated in-process broker in tests, a NATS bus
   * shared by several meshes). Its owner closes it.
   */
  bus?: Bus;
  /** Settings over `.env` and the environment (highest precedence). */
  config?: SettingsInput;
  /** Providers to use instead of those the settings configure (custom providers, tests). */
  providers?: Provider[];
  /**
   * Storage to use instead of the default one under `LOG_DIRECTORY` (e.g. `createMemoryStorage()` for tests and
   * throwaway runs). Its owner closes it: `mesh.stop()` closes only storage the mesh opened itself.
   */
  storage?: Storage;
  /**
   * Middleware around the model every agent asks for code (`wrapGenerate`) and around the sandbox that runs it
   * (`wrapExecute`); the first of each list is the outermost. Record/replay (`AUTOMESH_RECORD`/`AUTOMESH_REPLAY`)
   * sits inside the model middleware, closest to the providers.
   */
  middleware?: MeshMiddleware;
  /**
   * `false`: no spans, no metrics and no metrics endpoint, not even the no-op spans of a process with no OpenTelemetry
   * SDK (what `bench/otel.ts` compares against). Default: on.
   */
  telemetry?: boolean;
}

export interface MeshMiddleware {
  model?: ModelMiddleware[];
  executor?: ExecutorMiddleware[];
}

/** Refuses a `middleware` option that is not `{ model?: [...], executor?: [...] }`, at construction. */
function checkMiddleware(middleware: unknown): MeshMiddleware {
  if (middleware === undefined) return {};
  if (typeof middleware !== 'object' || middleware === null || Array.isArray(middleware)) {
    throw new TypeError(
      'Mesh option middleware must be an object { model?: ModelMiddleware[], executor?: ExecutorMiddleware[] }.',
    );
  }
  const unknown = Object.keys(middleware).filter((key) => key !== 'model' && key !== 'executor');
  if (unknown.length > 0) {
    throw new TypeError(
      `Mesh option middleware has unknown field(s) ${unknown.map((k) => JSON.stringify(k)).join(', ')}; it takes model and executor.`,
    );
  }
  const { model, executor } = middleware as MeshMiddleware;
  for (const [name, list] of [
    ['model', model],
    ['executor', executor],
  ] as const) {
    if (list !== undefined && !Array.isArray(list))
      throw new TypeError(`Mesh option middleware.${name} must be an array of middleware objects.`);
  }
  checkModelMiddleware(model ?? []);
  checkExecutorMiddleware(executor ?? []);
  return { model: [...(model ?? [])], executor: [...(executor ?? [])] };
}

/** The errors of the promises that rejected (undefined entries are skipped). */
async function settledErrors(work: Array<Promise<unknown> | undefined>): Promise<unknown[]> {
  const results = await Promise.allSettled(work.filter((p): p is Promise<unknown> => p !== undefined));
  return results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
}

export class Mesh extends MeshEventEmitter {
  private readonly byRole = new Map<string, AutoAgent>();
  private runtime: AgentRuntime | null = null;
  private workflows: WorkflowStore | null = null;
  private openStorage: Storage | null = null;
  /** Storage the mesh opened itself (closed by stop()); null when it was given one. */
  private ownStorage: Pick<Storage, 'close'> | null = null;
  private storageLocation = '';
  private stopController = new AbortController();
  private readonly inFlight = new Set<Promise<unknown>>();
  private starting = false;
  /** Set by a stop() that came while start() was in progress: start() then undoes itself and rejects. */
  private stopRequested = false;
  /** The running start(), which a stop() in the meantime waits for. */
  private startup: Promise<void> | null = null;
  /** The running stop(): while it drains, no new task or workflow is admitted. */
  private stopping: Promise<void> | null = null;
  /** Explicit task ids of tasks in flight, and ids of workflows in flight: each names one stored result or state. */
  private readonly taskIds = new Set<string>();
  private readonly workflowIds = new Set<string>();
  private readonly options: MeshOptions;
  private readonly localRunner = new InProcessStepRunner(this.byRole);
  private readonly stepRunner = new RoutingStepRunner(this.byRole, this.localRunner, () => this.remoteRunner());
  private readonly middleware: MeshMiddleware;
  /** CustomAgents (`mesh.add(class extends CustomAgent)`), by role. */
  private readonly customAgents = new Map<string, CustomAgent>();
  /** The CustomAgents' `run` loops while the mesh runs, and what aborts them. */
  private runLoops: Promise<unknown>[] = [];
  private runController = new AbortController();
  /** Function agents (`mesh.agent`), by name. */
  private readonly functionAgents = new Map<string, FunctionAgent>();
  private network: MeshNetwork | null = null;
  /** Distributed mode: the work-queue dispatch of workflow steps (and this node's worker). */
  private dispatch: Dispatch | null = null;
  /** This mesh's workflows in flight: in distributed mode, stop() keeps taking steps until they have ended. */
  private readonly workflowRuns = new Set<Promise<unknown>>();
  /**
   * This mesh's Prometheus metrics, in a registry of its own (two meshes in one process count apart). Render them
   * with `mesh.metrics.render()`, or serve them with `metricsRequestHandler(mesh.metrics)` or `METRICS_PORT`.
   */
  readonly metrics = new MeshMetrics();
  private metricsServer: MetricsServer | null = null;

  constructor(options: MeshOptions = {}) {
    super();
    if (options.mode !== undefined && options.mode !== 'autonomous' && options.mode !== 'distributed') {
      throw new TypeError(`Unknown mesh mode "${String(options.mode)}": the modes are "autonomous" and "distributed".`);
    }
    this.options = options;
    this.middleware = checkMiddleware(options.middleware);
    if (options.telemetry !== false) this.countWorkflows();
  }

  /** Workflow runs and steps in the metrics, from the mesh's own events. */
  private countWorkflows(): void {
    const metrics = this.metrics;
    this.on('step:finished', ({ envelope }) => metrics.stepEnded(envelope.role, 'success'));
    this.on('step:failed', ({ envelope }) => metrics.stepEnded(envelope.role, 'failure'));
    this.on('step:skipped', ({ envelope }) => metrics.stepEnded(envelope.role, 'skipped'));
    this.on('step:recovered', ({ envelope }) => metrics.stepEnded(envelope.role, 'recovered'));
    this.on('workflow:finished', ({ summary }) =>
      metrics.workflowEnded(summary.cancelled ? 'cancelled' : summary.failed > 0 ? 'failed' : 'finished'),
    );
  }

  /** Where this node serves its metrics (`METRICS_PORT`), or null. */
  /**
   * The storage the running mesh reads and writes (results, code registry, workflow state): for readers such as
   * the studio. Only while started.
   */
  get storage(): Storage {
    if (!this.openStorage) throw new Error('mesh.storage is there once mesh.start() has resolved (and until stop).');
    return this.openStorage;
  }

  get metricsUrl(): string | null {
    return this.metricsServer?.url ?? null;
  }

  /**
   * Adds an agent class (extending AutoAgent) or a `defineAgent` definition, with its tools; or a class extending
   * CustomAgent, served under its role.
   */
  add(agent: AgentClass | AgentDefinition | CustomAgentClass, options: AgentOptions = {}): this {
    if (this.runtime || this.starting) {
      throw new Error('Agents cannot be added after mesh.start(); add every agent first, or stop the mesh.');
    }
    if (isCustomAgentClass(agent)) {
      const custom = new agent();
      this.checkUniqueRole(custom.role);
      this.customAgents.set(custom.role, custom);
      return this;
    }
    let instance: AutoAgent;
    if (typeof agent === 'function') {
      if (!(agent.prototype instanceof AutoAgent) && agent !== (AutoAgent as unknown)) {
        throw new TypeError(
          `mesh.add() takes a class extending AutoAgent or a defineAgent({...}) object; got ${agent.name || 'a function'}.`,
        );
      }
      instance = new agent(undefined, options);
    } else if (agent && typeof agent === 'object') {
      instance = new AutoAgent(validateAgentDefinition(agent), options);
    } else {
      throw new TypeError('mesh.add() takes a class extending AutoAgent or a defineAgent({...}) object.');
    }
    this.checkUniqueRole(instance.role);
    this.byRole.set(instance.role, instance);
    return this;
  }

  private checkUniqueRole(role: string): void {
    if (this.byRole.has(role) || this.functionAgents.has(role) || this.customAgents.has(role)) {
      throw new Error(`An agent with role "${role}" is already in this mesh; roles must be unique.`);
    }
  }

  /**
   * Adds a function agent: your own handler served on the mesh under `spec.name`, with zod schemas for its input
   * and output (OpenAgentMesh's agents). The shape follows from the handler: `async function*` streams (or, with
   * no input, publishes events); no input and an output make a trigger; no input and no output a watcher.
   */
  agent<I extends z.ZodType | undefined = undefined, O extends z.ZodType | undefined = undefined>(
    spec: FunctionAgentSpec<I, O>,
    handler: FunctionAgentHandler<I, O>,
  ): this {
    if (this.runtime || this.starting) {
      throw new Error('Agents cannot be added after mesh.start(); add every agent first, or stop the mesh.');
    }
    const agent = defineFunctionAgent(spec, handler);
    if (this.functionAgents.has(agent.name) || this.byRole.has(agent.name) || this.customAgents.has(agent.name)) {
      throw new MeshError(
        'invalid_definition',
        `An agent named "${agent.name}" is already in this mesh; names must be unique.`,
        { agent: agent.name },
      );
    }
    this.functionAgents.set(agent.name, agent);
    return this;
  }

  /** The agents, in the order they were added. */
  get agents(): AutoAgent[] {
    return [...this.byRole.values()];
  }

  /** The agent with this role, or undefined. */
  getAgent(role: string): AutoAgent | undefined {
    return this.byRole.get(role);
  }

  get started(): boolean {
    return this.runtime !== null;
  }

  /** The settings in force (after start). */
  get settings(): Settings {
    return this.requireRuntime('read settings').settings;
  }

  /** The code registry (after start). */
  get registry(): CodeRegistry {
    return this.requireRuntime('use the registry').registry;
  }

  /**
   * The agent a step or call names: a role of this process, the first agent added here with that capability, or
   * (after start) an agent of the mesh's catalog by name or, failing that, by tag.
   */
  resolveAgent(name: string): string | undefined {
    if (this.byRole.has(name) || this.customAgents.has(name)) return name;
    const local = this.agents.find((agent) => agent.capabilities.includes(name))?.role;
    if (local !== undefined) return local;
    const catalog = this.network?.catalog;
    if (!catalog) return undefined;
    if (catalog.lookup(name)?.invocable) return name;
    return catalog.list({ tags: [name], invocable: true })[0]?.name;
  }

  private directory(): AgentDirectory {
    return {
      resolve: (name) => this.resolveAgent(name),
      describe: () => {
        const roles = [...this.byRole.keys()].join(', ');
        const caps = [...new Set(this.agents.flatMap((a) => [...a.capabilities]))].join(', ');
        const remote = (this.network?.catalog.list({ invocable: true }) ?? [])
          .map((entry) => entry.name)
          .filter((name) => !this.byRole.has(name));
        const local = `roles: ${roles || 'none'}; capabilities: ${caps || 'none'}`;
        return remote.length > 0 ? `${local}; on the mesh: ${remote.join(', ')}` : local;
      },
    };
  }

  /**
   * Runs a workflow: a DAG of steps `{ id?, agent, task, dependsOn?, context? }`. Resolves with one envelope
   * per step, in step order, plus `.summary`; it does not throw for step failures. The state is saved per step;
   * running the same id again resumes (steps that succeeded come back with `recovered: true`), unless
   * `{ fresh: true }`. One run holds an id at a time: another run of it (here or in another process) is refused
   * with a `WorkflowLockedError` naming the holder, or with `{ wait: true }` waits for it to end.
   */
  workflow(workflowId: string, steps: WorkflowStep[], options: WorkflowOptions = {}): Promise<WorkflowResult> {
    if (!this.runtime || !this.workflows) {
      return Promise.reject(new Error('Cannot run a workflow before mesh.start(): await mesh.start() first.'));
    }
    if (this.stopping) return Promise.reject(this.stoppingError('a workflow'));
    // With `wait`, a second run of an id waits for the lease the first holds instead.
    if (this.workflowIds.has(workflowId) && options.wait !== true) {
      return Promise.reject(
        new Error(
          `Workflow "${workflowId}" is already running in this mesh; two runs of one id would overwrite `
            + "each other's saved state. Await the first run, or give this one another id.",
        ),
      );
    }
    const runtime = this.runtime;
    let plan: WorkflowPlan & { release: () => void };
    try {
      plan = this.planWorkflow(workflowId, steps, options);
    } catch (err) {
      return Promise.reject(err);
    }
    const tracked = options.wait !== true;
    if (tracked) this.workflowIds.add(workflowId);
    const run = runtime.track(
      runWorkflow(
        {
          runner: this.dispatch ?? this.stepRunner,
          events: this,
          store: this.workflows,
          storageLocation: this.storageLocation,
          defaultConcurrency: runtime.settings.WORKFLOW_CONCURRENCY,
          lease: leaseTiming(runtime.settings.WORKFLOW_LEASE_TTL * 1000),
          stopSignal: this.stopController.signal,
        },
        plan,
        options,
      ).finally(() => {
        plan.release();
        if (tracked) this.workflowIds.delete(workflowId);
      }),
    );
    this.workflowRuns.add(run);
    const forget = (): void => {
      this.workflowRuns.delete(run);
    };
    run.then(forget, forget);
    return run;
  }

  /**
   * Validates the steps (every problem at once) and the budget (an agent that could call an unpriced model is
   * refused), and turns them into the engine's plan: data only, the steps' schemas kept by the step runner.
   */
  private planWorkflow(
    workflowId: string,
    steps: WorkflowStep[],
    options: WorkflowOptions,
  ): WorkflowPlan & { release: () => void } {
    const resolved = resolveWorkflow(workflowId, steps, this.directory());
    const roles = new Set(resolved.map((step) => step.role));
    // Remote agents price their own model calls; the budget reaches them as what is left of it.
    const budget = workflowBudget(
      workflowId,
      options.budgetUsd,
      [...roles].flatMap((role) => this.byRole.get(role) ?? []),
    );
    const { steps: planned, release } = this.localRunner.plan(workflowId, resolved);
    return {
      workflowId,
      steps: planned,
      budget: budget ? { label: budget.label, limitUsd: budget.limitUsd } : null,
      release,
    };
  }

  /** @internal The shared parts, for the workflow engine. */
  requireRuntime(doing: string): AgentRuntime {
    if (!this.runtime) throw new Error(`Cannot ${doing} before mesh.start().`);
    return this.runtime;
  }

  private stoppingError(what: string): Error {
    return new Error(
      `Cannot start ${what}: mesh.stop() is in progress (it lets the work already running finish, then `
        + 'shuts the sandbox down). Start work before stop(), or after the next start().',
    );
  }

  /** Admits a task (see AgentRuntime.admitTask). */
  private admitTask(id: string | undefined): () => void {
    if (this.stopping) throw this.stoppingError('a task');
    if (id === undefined) return () => undefined;
    if (this.taskIds.has(id)) {
      throw new Error(
        `Task id "${id}" is already used by a task still running in this mesh; the id names the stored `
          + 'result, so the two would overwrite each other. Await the first task, or give this one another id.',
      );
    }
    this.taskIds.add(id);
    return () => this.taskIds.delete(id);
  }

  /**
   * Loads settings, builds the provider chain, starts the sandbox workers, opens storage. A stop() called
   * meanwhile makes it shut down what it started and reject.
   */
  async start(): Promise<void> {
    if (this.runtime || this.starting) throw new Error('The mesh is already started.');
    if (this.stopping) throw new Error('The mesh is stopping: await mesh.stop() before starting it again.');
    this.starting = true;
    this.stopRequested = false;
    this.startup = this.open();
    try {
      await this.startup;
    } finally {
      this.startup = null;
      this.starting = false;
    }
  }

  private async open(): Promise<void> {
    const settings = loadSettings({ config: this.options.config });
    this.checkTransport(settings);
    const prompts = loadPromptTemplates(settings.PROMPT_DIRECTORY);
    const telemetry: Telemetry | undefined =
      this.options.telemetry === false ? undefined : telemetryFor(settings, this.metrics);
    // Innermost of the mesh's middleware: a user's middleware that answers without the model makes no call here.
    const buildModel = (): CodeModel =>
      wrapModel(
        createCodeModel(settings, this.options.providers ? { providers: this.options.providers } : {}),
        ...(this.middleware.model ?? []),
        ...(telemetry ? [telemetryModelMiddleware(telemetry)] : []),
      );
    // Only AutoAgents ask a model for code: a mesh of function agents (or a caller) starts with no provider set up.
    const model = this.byRole.size > 0 ? buildModel() : lazyCodeModel(buildModel);
    const models = agentModels(settings, model, this.byRole.values());
    // Before the sandbox warms and long before any model call: a log directory that cannot hold results
    // would otherwise lose the first task's result after it was paid for.
    await assertUsableDirectory(settings.LOG_DIRECTORY, 'LOG_DIRECTORY');
    let own: Storage | null = this.options.storage ? null : openStorageFromSettings(settings);
    let storage = this.options.storage ?? (own as Storage);
    const executor = wrapExecutor(
      new Executor({ settings: sandboxSettingsOf(settings) }),
      ...(this.middleware.executor ?? []),
      ...(telemetry ? [telemetryExecutorMiddleware(telemetry)] : []),
    );
    const closeAll = async (): Promise<void> => {
      await executor.close();
      await own?.close();
    };
    // The providers' SDKs load while the sandbox warms, not in the first task. A mesh with no AutoAgent (function
    // agents, or a caller only) needs neither.
    const generates = this.byRole.size > 0;
    const sdksLoaded = generates ? Promise.all([model, ...models.values()].map((m) => m.prepare?.())) : null;
    let network: MeshNetwork | null = null;
    try {
      network = await MeshNetwork.open({
        settings,
        ...(this.options.bus ? { bus: this.options.bus } : {}),
        onWarning: (message) => this.emit('warning', { kind: 'mesh', message }),
      });
      if (own && this.options.mode === 'distributed') {
        // One registry and one workflow state for every node; results stay in this node's database.
        own = await this.sharedStorage(network, own);
        storage = own;
      }
      if (generates) await executor.warm();
      await sdksLoaded;
    } catch (err) {
      await network?.close();
      await closeAll();
      throw err;
    }
    if (this.stopRequested) {
      await network.close();
      await closeAll();
      throw new Error(
        'mesh.stop() was called while mesh.start() was in progress: the mesh did not start, and the '
          + 'sandbox workers it had started are shut down.',
      );
    }
    this.stopController = new AbortController();
    this.workflows = storage.workflows;
    this.openStorage = storage;
    this.ownStorage = own;
    this.storageLocation =
      own && this.options.mode !== 'distributed'
        ? `LOG_DIRECTORY=${resolve(settings.LOG_DIRECTORY)}`
        : storage.location;
    this.runtime = {
      settings,
      model,
      agentModels: models,
      executor,
      prompts,
      results: storage.results,
      registry: new CodeRegistry(storage.registry),
      stopSignal: this.stopController.signal,
      warn: (warning) => this.emit('warning', warning),
      track: <T>(work: Promise<T>): Promise<T> => {
        this.inFlight.add(work);
        const forget = (): void => {
          this.inFlight.delete(work);
        };
        work.then(forget, forget);
        return work;
      },
      admitTask: (id) => this.admitTask(id),
      ...(telemetry ? { telemetry } : {}),
    };
    const peersOf = (role: string): Peers =>
      new Peers(role, network.caller, network.catalog, (name) => network.registry.contract(name));
    for (const agent of this.byRole.values()) {
      agent.attach(this.runtime, network.infra.forAgent(agent.role), peersOf(agent.role));
    }
    for (const agent of this.customAgents.values())
      agent.attach(peersOf(agent.role), network.infra.forAgent(agent.role), telemetry);
    this.network = network;
    try {
      await startCustomAgents(this.customAgents.values(), {
        serve: async () => {
          await network.serve(this.servedAgents());
          if (this.options.mode === 'distributed') this.dispatch = await this.openDispatch(network, settings);
          if (telemetry && settings.METRICS_PORT !== undefined)
            this.metricsServer = await startMetricsServer(this.metrics, settings.METRICS_PORT, settings.METRICS_HOST);
        },
        leave: () => network.leave(),
      });
    } catch (err) {
      this.dispatch?.close();
      this.dispatch = null;
      this.network = null;
      this.runtime = null;
      this.workflows = null;
      this.openStorage = null;
      for (const agent of this.byRole.values()) agent.attach(null);
      for (const agent of this.customAgents.values()) agent.attach(null);
      this.ownStorage = null;
      await network.close();
      await closeAll();
      throw err;
    }
    this.startRunLoops();
  }

  /** Each CustomAgent's `run(signal)`, from now until stop() aborts it; a loop that fails is reported, not lost. */
  private startRunLoops(): void {
    this.runController = new AbortController();
    const signal = this.runController.signal;
    this.runLoops = [...this.customAgents.values()].flatMap((agent) => {
      if (typeof agent.run !== 'function') return [];
      const loop = Promise.resolve()
        .then(() => agent.run?.(signal))
        .catch((err: unknown) => {
          if (signal.aborted) return;
          this.emit('warning', {
            kind: 'mesh',
            message: `The run() loop of agent "${agent.role}" failed: ${err instanceof Error ? err.message : String(err)}`,
          });
        });
      return [loop];
    });
  }

  /** Refuses a mode and transport that do not fit: distributed needs NATS_URL; no agents at all needs a network. */
  private checkTransport(settings: Settings): void {
    const networked = Boolean(settings.NATS_URL) || this.options.bus !== undefined;
    if (this.options.mode === 'distributed' && !settings.NATS_URL && !this.options.bus) {
      throw new Error(
        'Mesh mode "distributed" runs on NATS, and NATS_URL is not set: set it (e.g. NATS_URL=nats://127.0.0.1:4222; '
          + '`automesh mesh up` starts a local server), or leave mode out for one process.',
      );
    }
    if (this.byRole.size === 0 && this.functionAgents.size === 0 && this.customAgents.size === 0 && !networked) {
      throw new Error(
        'The mesh has no agents: mesh.add(...) or mesh.agent(...) at least one before start() '
          + '(a mesh with no agents of its own, that only calls others, needs NATS_URL).',
      );
    }
  }

  /** What this process serves: each AutoAgent by its role, then the function agents. */
  private servedAgents(): FunctionAgent[] {
    const auto = [...this.byRole.values()].map(servedAutoAgent);
    const custom = [...this.customAgents.values()].map(servedCustomAgent);
    return [...auto, ...custom, ...this.functionAgents.values()];
  }

  /** Distributed mode's storage: registry and workflow state on the bus's KV, results in `local` (closed with it). */
  private sharedStorage(network: MeshNetwork, local: Storage): Promise<Storage> {
    return openBusStorage({
      bus: network.bus,
      results: local.results,
      onClose: () => local.close(),
      onWarning: (message) => this.emit('warning', { kind: 'mesh', message }),
    });
  }

  /**
   * Distributed mode: steps go to the work queue, taken by whichever node serves their agent (this one too), for
   * AutoAgents and CustomAgents alike.
   */
  private openDispatch(network: MeshNetwork, settings: Settings): Promise<Dispatch> {
    const runtime = this.requireRuntime('dispatch steps');
    return Dispatch.open({
      network,
      settings,
      agents: new Map<string, StepAgent>([
        ...this.byRole,
        ...[...this.customAgents].map(([role, agent]) => [role, customStepAgent(agent, runtime.stopSignal)] as const),
      ]),
      callRunner: this.remoteRunner(),
      onWarning: (message) => this.emit('warning', { kind: 'mesh', message }),
      // A copy of another node's result in this node's log: `automesh logs show` on the orchestrator finds it.
      onRemoteResult: async (call, envelope) => {
        const saved = runtime.results.save({
          resultId: envelope.resultId,
          role: call.role,
          task: call.task,
          createdAt: new Date().toISOString(),
          promptHashes: {},
          envelope: envelope as unknown as Record<string, unknown>,
        });
        await saved.catch((err: unknown) =>
          this.emit('warning', {
            kind: 'mesh',
            message:
              `The result of step "${call.stepId}" (run on another node) could not be copied into this node's `
              + `result log: ${err instanceof Error ? err.message : String(err)}`,
          }),
        );
      },
    });
  }

  /** Steps for agents of other processes go over the mesh, as calls of up to MESH_STEP_TIMEOUT. */
  private remoteRunner(): RemoteStepRunner {
    const network = this.requireNetwork('run a step on another process');
    const timeoutMs = this.requireRuntime('run a step').settings.MESH_STEP_TIMEOUT * 1000;
    return new RemoteStepRunner(
      (name, input, options) => network.caller.call(name, input, options) as Promise<unknown>,
      timeoutMs,
      async (name) => {
        const document = (await network.registry.document(name)) as RegistryDocument | null;
        // A CustomAgent answers a step with its envelope too (executeTask).
        const kind = document?.['x-agentmesh']?.['x-automesh']?.kind;
        return kind === 'auto' || kind === 'custom';
      },
    );
  }

  private requireNetwork(doing: string): MeshNetwork {
    if (!this.network) throw new Error(`Cannot ${doing} before mesh.start(): await mesh.start() first.`);
    return this.network;
  }

  /** Calls an agent anywhere on the mesh (an AutoAgent takes `{ task, context? }` and answers with its envelope). */
  call(name: string, input?: unknown, options?: CallOptions): Promise<unknown> {
    try {
      return this.requireNetwork('call an agent').caller.call(name, input, options);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Streams from a streamer agent anywhere on the mesh. */
  stream(name: string, input?: unknown, options?: StreamOptions): AsyncGenerator<unknown, void, undefined> {
    return this.requireNetwork('stream from an agent').caller.stream(name, input, options);
  }

  /**
   * Sends to an agent without waiting: fire and forget, or with `onReply` / `onError`. Resolves with the request id
   * once the request is sent.
   */
  send(name: string, input?: unknown, options?: SendOptions): Promise<string> {
    try {
      return this.requireNetwork('send to an agent').caller.send(name, input, options);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Publishes an event: a name (or `{ agent }`) publishes as that agent's events (`mesh.agent.{name}.events`, what
   * `subscribe({ agent })` and `subscribe({ channel })` receive); `{ subject }` publishes on that subject.
   */
  async publish(
    target: string | { agent: string } | { subject: string },
    payload?: unknown,
    options?: PublishOptions,
  ): Promise<void> {
    const network = this.requireNetwork('publish');
    network.caller.publish(target, payload, options);
    await network.bus.flush();
  }

  /** Messages of an agent's events, a channel or a subject, as they come. */
  subscribe(target: SubscribeTarget, options?: SubscribeOptions): AsyncIterable<unknown> {
    return this.requireNetwork('subscribe').caller.subscribe(target, options);
  }

  /** The agents on the mesh (any process, any language), from the live catalog cache. */
  async catalog(filter?: CatalogFilter): Promise<CatalogEntry[]> {
    return this.requireNetwork('read the catalog').catalog.list(filter);
  }

  /** The contracts of the agents the filter selects (descriptions, JSON Schemas, shapes). */
  async discover(filter?: CatalogFilter): Promise<AgentContract[]> {
    const network = this.requireNetwork('discover agents');
    const found = await Promise.allSettled(
      network.catalog.list(filter).map((entry) => network.registry.contract(entry.name)),
    );
    return found.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  }

  /** One agent's contract from the registry; `not_found` when no agent has that name. */
  contract(name: string): Promise<AgentContract> {
    try {
      return this.requireNetwork('read a contract').registry.contract(name);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Shared key-value state on the mesh (`mesh-context`). */
  get kv(): SharedKv {
    return this.requireNetwork('use mesh.kv').kv;
  }

  /**
   * Blobs shared by the mesh's agents (what they have as `this.blobs`): `<LOG_DIRECTORY>/blobs` in one process, the
   * `automesh-blobs` object store on NATS.
   */
  get blobs(): BlobStore {
    return this.requireNetwork('use mesh.blobs').infra.blobs;
  }

  /** Sends durable messages to an agent by role, from outside any agent (`from` is `mesh@<NODE_NAME>`). */
  get mailbox(): MailboxSender {
    return this.requireNetwork('use mesh.mailbox').infra.mailbox;
  }

  /** Shared files on the mesh (`mesh-artifacts` object store). */
  get workspace(): Workspace {
    return this.requireNetwork('use mesh.workspace').workspace;
  }

  /** This process on the mesh: node name, instance id, where the bus is. */
  get node(): { name: string; instanceId: string; transport: 'in-process' | 'nats'; location: string } {
    const network = this.requireNetwork('read the node');
    return {
      name: network.node,
      instanceId: network.instanceId,
      transport: network.bus.kind,
      location: network.bus.location,
    };
  }

  /**
   * What is stored of a workflow: its header (status, step ids, times) and each step's record (status and, once it
   * ended, its envelope), whichever process ran it on this mesh's storage; null when nothing is stored for the id.
   */
  workflowState(workflowId: string): Promise<WorkflowSnapshot | null> {
    try {
      checkWorkflowId(workflowId);
      if (!this.workflows)
        throw new Error("Cannot read a workflow's state before mesh.start(): await mesh.start() first.");
      return this.workflows.load(workflowId);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Follows the transport's connection (on NATS: `disconnected`, `reconnected` after a broker restart, `closed`);
   * returns the function that stops following it. The in-process transport only ever reports `closed`.
   */
  onConnection(listener: (event: ConnectionEvent) => void): () => void {
    return this.requireNetwork('follow the connection').bus.onConnection(listener);
  }

  /**
   * Stops the mesh. Work in flight is waited for (`MESH_STOP_MODE=wait`, the default) or cancelled
   * (`cancel`: running steps end as cancelled, waiting ones are skipped); then the sandbox workers shut down.
   * Agents cannot run tasks again until the next start(). From the moment stop() is called, new tasks and
   * workflows are refused (before any model call); a stop() while start() is in progress makes that start()
   * undo itself and reject; concurrent stop() calls share one stop.
   */
  async stop(): Promise<void> {
    if (this.startup) {
      this.stopRequested = true;
      await this.startup.catch(() => undefined);
    }
    if (this.stopping) return this.stopping;
    const runtime = this.runtime;
    if (!runtime) return;
    this.stopping = this.drain(runtime).finally(() => {
      this.stopping = null;
    });
    return this.stopping;
  }

  private async drain(runtime: AgentRuntime): Promise<void> {
    if (runtime.settings.MESH_STOP_MODE === 'cancel') this.stopController.abort(new Error('mesh stopped'));
    this.runController.abort(new Error('mesh stopped'));
    // Leaving the mesh takes no new requests and lets those in flight finish (tracked work too); calls to other
    // processes keep working until the work in flight has ended.
    const network = this.network;
    // Settled at once so a failure to leave is not an unhandled rejection while the work drains; reported below.
    const dispatch = this.dispatch;
    // This node may be the one that runs its own workflows' steps: it takes steps until they have ended.
    const ownWorkflows = (async (): Promise<void> => {
      while (this.workflowRuns.size > 0) await Promise.allSettled([...this.workflowRuns]);
    })();
    const left = Promise.all([network?.leave(), ownWorkflows.then(() => dispatch?.stopTaking())]).then(
      () => null,
      (err: unknown) => err,
    );
    // Work in flight may add more while it ends (a workflow's next steps, background registry writes).
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    await Promise.all(this.runLoops);
    this.runLoops = [];
    const teardowns = settledErrors(
      [...this.customAgents.values()].map(async (agent) => {
        // After it has left the mesh (no more requests) and its loop has ended.
        await left;
        await agent.teardown();
      }),
    );
    this.runtime = null;
    this.workflows = null;
    this.openStorage = null;
    for (const agent of this.byRole.values()) agent.attach(null);
    const teardownFailures = await teardowns;
    for (const agent of this.customAgents.values()) agent.attach(null);
    const own = this.ownStorage;
    this.ownStorage = null;
    this.network = null;
    this.dispatch = null;
    dispatch?.close();
    const metricsServer = this.metricsServer;
    this.metricsServer = null;
    const failures = [
      await left,
      ...(await settledErrors([network?.close(), runtime.executor.close(), metricsServer?.close()])),
    ];
    failures.push(...(await settledErrors([own?.close()])), ...teardownFailures);
    const failed = failures.filter((err) => err !== null && err !== undefined);
    if (failed.length === 1) throw failed[0];
    if (failed.length > 1) throw new AggregateError(failed, 'mesh.stop() could not close everything cleanly.');
  }
}
