/**
 * Mesh: holds agents, starts the parts they share (settings, provider chain, sandbox, storage, registry)
 * and stops them. Workflows build on it.
 */
import { AutoAgent, type AgentClass, type AgentOptions } from '../agent/auto-agent.js';
import { validateAgentDefinition, type AgentDefinition } from '../agent/definition.js';
import type { AgentRuntime } from '../agent/pipeline.js';
import { loadPromptTemplates } from '../codegen/prompts.js';
import { sandboxSettingsOf } from '../config/sandbox-settings.js';
import { loadSettings, type Settings, type SettingsInput } from '../config/settings.js';
import { LlmChain } from '../llm/chain.js';
import type { Provider } from '../llm/types.js';
import { CodeRegistry } from '../registry/index.js';
import { Executor } from '../sandbox/executor.js';
import { createFileStorage } from '../storage/index.js';

export interface MeshOptions {
  /** Only `autonomous` exists: agents act on their own tasks. */
  mode?: 'autonomous';
  /** Settings over `.env` and the environment (highest precedence). */
  config?: SettingsInput;
  /** Providers to use instead of those the settings configure (custom providers, tests). */
  providers?: Provider[];
}

export class Mesh {
  private readonly byRole = new Map<string, AutoAgent>();
  private runtime: AgentRuntime | null = null;
  private starting = false;
  private readonly options: MeshOptions;

  constructor(options: MeshOptions = {}) {
    if (options.mode !== undefined && options.mode !== 'autonomous') {
      throw new TypeError(`Unknown mesh mode "${String(options.mode)}": the only mode is "autonomous".`);
    }
    this.options = options;
  }

  /** Adds an agent class (extending AutoAgent) or a `defineAgent` definition, with its tools. */
  add(agent: AgentClass | AgentDefinition, options: AgentOptions = {}): this {
    if (this.runtime || this.starting) {
      throw new Error('Agents cannot be added after mesh.start(); add every agent first, or stop the mesh.');
    }
    let instance: AutoAgent;
    if (typeof agent === 'function') {
      if (!(agent.prototype instanceof AutoAgent) && agent !== (AutoAgent as unknown)) {
        throw new TypeError(`mesh.add() takes a class extending AutoAgent or a defineAgent({...}) object; got ${agent.name || 'a function'}.`);
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

  /** @internal The shared parts, for the workflow engine. */
  requireRuntime(doing: string): AgentRuntime {
    if (!this.runtime) throw new Error(`Cannot ${doing} before mesh.start().`);
    return this.runtime;
  }

  /** Loads settings, builds the provider chain, starts the sandbox workers, opens storage. */
  async start(): Promise<void> {
    if (this.runtime || this.starting) throw new Error('The mesh is already started.');
    if (this.byRole.size === 0) throw new Error('The mesh has no agents: mesh.add(...) at least one before start().');
    this.starting = true;
    try {
      const settings = loadSettings({ config: this.options.config });
      const prompts = loadPromptTemplates(settings.PROMPT_DIRECTORY);
      const chain = new LlmChain(settings, this.options.providers ? { providers: this.options.providers } : {});
      const storage = createFileStorage(settings.LOG_DIRECTORY);
      const executor = new Executor({ settings: sandboxSettingsOf(settings) });
      try {
        await executor.warm();
      } catch (err) {
        await executor.close();
        throw err;
      }
      this.runtime = {
        settings, chain, executor, prompts, results: storage.results, registry: new CodeRegistry(storage.registry),
      };
      for (const agent of this.byRole.values()) agent.attach(this.runtime);
    } finally {
      this.starting = false;
    }
  }

  /** Stops the sandbox workers; agents can no longer run tasks until the next start(). */
  async stop(): Promise<void> {
    const runtime = this.runtime;
    if (!runtime) return;
    this.runtime = null;
    for (const agent of this.byRole.values()) agent.attach(null);
    await runtime.executor.close();
  }
}
