/**
 * Mesh: holds agents, starts the parts they share (settings, provider chain, sandbox, storage, registry)
 * and stops them. Workflows build on it.
 */
import { resolve } from 'node:path';
import { agentModels } from '../agent/agent-llm.js';
import { type AgentClass, type AgentOptions, AutoAgent } from '../agent/auto-agent.js';
import { workflowBudget } from '../agent/budget.js';
import { type AgentDefinition, validateAgentDefinition } from '../agent/definition.js';
import type { AgentRuntime } from '../agent/pipeline.js';
import { loadPromptTemplates } from '../codegen/prompts.js';
import { sandboxSettingsOf } from '../config/sandbox-settings.js';
import { loadSettings, type Settings, type SettingsInput } from '../config/settings.js';
import { createCodeModel } from '../llm/create-model.js';
import { checkModelMiddleware, type ModelMiddleware, wrapModel } from '../llm/model-middleware.js';
import type { Provider } from '../llm/types.js';
import { CodeRegistry } from '../registry/index.js';
import { Executor } from '../sandbox/executor.js';
import { checkExecutorMiddleware, type ExecutorMiddleware, wrapExecutor } from '../sandbox/executor-middleware.js';
import { assertUsableDirectory, openStorageFromSettings, type Storage, type WorkflowStore } from '../storage/index.js';
import { MeshEventEmitter } from './events.js';
import { InProcessStepRunner } from './in-process-runner.js';
import { runWorkflow, type WorkflowOptions, type WorkflowPlan, type WorkflowResult } from './workflow-engine.js';
import { type AgentDirectory, resolveWorkflow, type WorkflowStep } from './workflow-spec.js';
import { leaseTiming } from './workflow-state.js';

export interface MeshOptions {
  /** Only `autonomous` exists: agents act on their own tasks. */
  mode?: 'autonomous';
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

export class Mesh extends MeshEventEmitter {
  private readonly byRole = new Map<string, AutoAgent>();
  private runtime: AgentRuntime | null = null;
  private workflows: WorkflowStore | null = null;
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
  private readonly stepRunner = new InProcessStepRunner(this.byRole);
  private readonly middleware: MeshMiddleware;

  constructor(options: MeshOptions = {}) {
    super();
    if (options.mode !== undefined && options.mode !== 'autonomous') {
      throw new TypeError(`Unknown mesh mode "${String(options.mode)}": the only mode is "autonomous".`);
    }
    this.options = options;
    this.middleware = checkMiddleware(options.middleware);
  }

  /** Adds an agent class (extending AutoAgent) or a `defineAgent` definition, with its tools. */
  add(agent: AgentClass | AgentDefinition, options: AgentOptions = {}): this {
    if (this.runtime || this.starting) {
      throw new Error('Agents cannot be added after mesh.start(); add every agent first, or stop the mesh.');
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
    if (this.byRole.has(instance.role)) {
      throw new Error(`An agent with role "${instance.role}" is already in this mesh; roles must be unique.`);
    }
    this.byRole.set(instance.role, instance);
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

  /** Role of the agent named by a role or, failing that, the first agent added with that capability. */
  resolveAgent(name: string): string | undefined {
    if (this.byRole.has(name)) return name;
    return this.agents.find((agent) => agent.capabilities.includes(name))?.role;
  }

  private directory(): AgentDirectory {
    return {
      resolve: (name) => this.resolveAgent(name),
      describe: () => {
        const roles = [...this.byRole.keys()].join(', ');
        const caps = [...new Set(this.agents.flatMap((a) => [...a.capabilities]))].join(', ');
        return `roles: ${roles || 'none'}; capabilities: ${caps || 'none'}`;
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
    return runtime.track(
      runWorkflow(
        {
          runner: this.stepRunner,
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
    const budget = workflowBudget(
      workflowId,
      options.budgetUsd,
      [...roles].map((role) => this.byRole.get(role) as AutoAgent),
    );
    const { steps: planned, release } = this.stepRunner.plan(workflowId, resolved);
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
    if (this.byRole.size === 0) throw new Error('The mesh has no agents: mesh.add(...) at least one before start().');
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
    const prompts = loadPromptTemplates(settings.PROMPT_DIRECTORY);
    const model = wrapModel(
      createCodeModel(settings, this.options.providers ? { providers: this.options.providers } : {}),
      ...(this.middleware.model ?? []),
    );
    const models = agentModels(settings, model, this.byRole.values());
    // Before the sandbox warms and long before any model call: a log directory that cannot hold results
    // would otherwise lose the first task's result after it was paid for.
    await assertUsableDirectory(settings.LOG_DIRECTORY, 'LOG_DIRECTORY');
    const own = this.options.storage ? null : openStorageFromSettings(settings);
    const storage = this.options.storage ?? (own as Storage);
    const executor = wrapExecutor(
      new Executor({ settings: sandboxSettingsOf(settings) }),
      ...(this.middleware.executor ?? []),
    );
    const closeAll = async (): Promise<void> => {
      await executor.close();
      await own?.close();
    };
    // The providers' SDKs load while the sandbox warms, not in the first task.
    const sdksLoaded = Promise.all([model, ...models.values()].map((m) => m.prepare?.()));
    try {
      await executor.warm();
      await sdksLoaded;
    } catch (err) {
      await closeAll();
      throw err;
    }
    if (this.stopRequested) {
      await closeAll();
      throw new Error(
        'mesh.stop() was called while mesh.start() was in progress: the mesh did not start, and the '
          + 'sandbox workers it had started are shut down.',
      );
    }
    this.stopController = new AbortController();
    this.workflows = storage.workflows;
    this.ownStorage = own;
    this.storageLocation = own ? `LOG_DIRECTORY=${resolve(settings.LOG_DIRECTORY)}` : storage.location;
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
    };
    for (const agent of this.byRole.values()) agent.attach(this.runtime);
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
    // Work in flight may add more while it ends (a workflow's next steps, background registry writes).
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    this.runtime = null;
    this.workflows = null;
    for (const agent of this.byRole.values()) agent.attach(null);
    const own = this.ownStorage;
    this.ownStorage = null;
    try {
      await runtime.executor.close();
    } finally {
      await own?.close();
    }
  }
}
