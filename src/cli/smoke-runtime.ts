/**
 * The runtime `automesh smoketest` builds, as `Mesh.start` does, with each part observed so that every stage of
 * the real pipeline (`runTask`) is timed: LLM calls and executions through middleware, registrations and
 * result-log writes through wrappers of the registry's store and the result store (no subclass).
 */
import type { ModelMiddleware } from '../llm/model-middleware.js';
import type { ProviderFailure } from '../llm/types.js';
import type { RegistryEntry, RegistryScan } from '../registry/types.js';
import type { ExecutorMiddleware } from '../sandbox/executor-middleware.js';
import type { ExecutionResult } from '../sandbox/types.js';
import type {
  RegistryStore,
  ResultFilter,
  ResultScanItem,
  ResultStore,
  ResultSummary,
  StoredResult,
} from '../storage/index.js';

export type SmokeStage =
  | 'settings'
  | 'provider chain'
  | 'sandbox start'
  | 'code generation'
  | 'execution'
  | 'registry'
  | 'result log';

/** The stage whose part threw last (runTask lets storage errors through). */
export interface StageTracker {
  threwIn: SmokeStage | null;
}

export interface LlmCall {
  ok: boolean;
  provider: string | null;
  model: string | null;
  tokens: { input: number; output: number; total: number };
  costUsd: number | null;
  durationMs: number;
  /** Failed tries before the answer (retried with backoff, or failed over). */
  failures: ProviderFailure[];
  error: string | null;
}

/** What the smoketest saw of the model and the sandbox, filled in by its middleware. */
export interface SmokeProbe extends StageTracker {
  calls: LlmCall[];
  runs: ExecutionResult[];
}

export function smokeProbe(): SmokeProbe {
  return { threwIn: null, calls: [], runs: [] };
}

/** Model middleware: each call timed, with what it cost and which tries failed; a throw is the code-generation stage's. */
export function timeModelCalls(probe: SmokeProbe): ModelMiddleware {
  return {
    wrapGenerate: async ({ doGenerate }) => {
      const started = performance.now();
      try {
        const reply = await doGenerate();
        probe.calls.push({
          ok: true,
          provider: reply.provider,
          model: reply.model,
          tokens: reply.tokens,
          costUsd: reply.costUsd,
          durationMs: performance.now() - started,
          failures: reply.failures,
          error: null,
        });
        return reply;
      } catch (err) {
        probe.threwIn = 'code generation';
        probe.calls.push({
          ok: false,
          provider: null,
          model: null,
          tokens: { input: 0, output: 0, total: 0 },
          costUsd: null,
          durationMs: performance.now() - started,
          failures: [],
          error: err instanceof Error ? err.message : String(err),
        });
        throw err;
      }
    },
  };
}

/** Executor middleware: each result kept; a throw is the execution stage's. */
export function keepExecutions(probe: SmokeProbe): ExecutorMiddleware {
  return {
    wrapExecute: async ({ doExecute }) => {
      try {
        const result = await doExecute();
        probe.runs.push(result);
        return result;
      } catch (err) {
        probe.threwIn = 'execution';
        throw err;
      }
    },
  };
}

/**
 * The registry's store, its registrations timed: `CodeRegistry.register` is one `upsert`, made once the result log
 * has the result, so the upsert's time is the registry stage's own (waiting for the result log is not).
 */
export class TimedRegistryStore implements RegistryStore {
  readonly registered: Array<{ entry: RegistryEntry; durationMs: number }> = [];

  constructor(
    private readonly inner: RegistryStore,
    private readonly tracker: StageTracker,
  ) {}

  async upsert(id: string, change: (entry: RegistryEntry | null) => RegistryEntry): Promise<RegistryEntry> {
    const started = performance.now();
    try {
      const entry = await this.inner.upsert(id, change);
      this.registered.push({ entry, durationMs: performance.now() - started });
      return entry;
    } catch (err) {
      this.tracker.threwIn = 'registry';
      throw err;
    }
  }

  get(id: string): Promise<RegistryEntry | null> {
    return this.inner.get(id);
  }

  put(entry: RegistryEntry): Promise<void> {
    return this.inner.put(entry);
  }

  update(id: string, change: (entry: RegistryEntry) => RegistryEntry): Promise<RegistryEntry | null> {
    return this.inner.update(id, change);
  }

  findByTaskKey(taskKey: string): Promise<RegistryScan> {
    return this.inner.findByTaskKey(taskKey);
  }

  list(): Promise<RegistryScan> {
    return this.inner.list();
  }

  remove(id: string): Promise<boolean> {
    return this.inner.remove(id);
  }

  search(text: string, options?: { limit?: number }): Promise<RegistryScan> {
    return this.inner.search(text, options);
  }
}

export class TimedResults implements ResultStore {
  readonly saved: Array<{ resultId: string; role: string; durationMs: number }> = [];

  constructor(
    private readonly inner: ResultStore,
    private readonly tracker: StageTracker,
  ) {}

  async save(result: StoredResult): Promise<void> {
    const started = performance.now();
    try {
      await this.inner.save(result);
      this.saved.push({ resultId: result.resultId, role: result.role, durationMs: performance.now() - started });
    } catch (err) {
      this.tracker.threwIn = 'result log';
      throw err;
    }
  }

  get(resultId: string, role?: string): Promise<StoredResult | null> {
    return this.inner.get(resultId, role);
  }

  list(options?: ResultFilter & { limit?: number }): Promise<ResultSummary[]> {
    return this.inner.list(options);
  }

  scan(options?: ResultFilter): AsyncIterable<ResultScanItem> {
    return this.inner.scan(options);
  }
}
