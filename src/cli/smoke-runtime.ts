/**
 * The runtime `automesh smoketest` builds, as `Mesh.start` does, with each part wrapped so that every stage of
 * the real pipeline (`runTask`) is timed: LLM calls, executions, registrations, result-log writes.
 */
import type { Settings } from '../config/settings.js';
import { LlmChain } from '../llm/chain.js';
import type { LlmReply, LlmRequest, ProviderFailure } from '../llm/types.js';
import { CodeRegistry, type RegisterInput, type RegisterOptions } from '../registry/index.js';
import type { RegistryEntry } from '../registry/types.js';
import { Executor, type ExecutionRequest, type ExecutorOptions } from '../sandbox/executor.js';
import type { ExecutionResult } from '../sandbox/types.js';
import type { RegistryStore, ResultFilter, ResultScanItem, ResultStore, ResultSummary, StoredResult } from '../storage/index.js';

export type SmokeStage = 'settings' | 'provider chain' | 'sandbox start' | 'code generation' | 'execution' | 'registry' | 'result log';

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

export class TimedChain extends LlmChain {
  readonly calls: LlmCall[] = [];

  constructor(settings: Settings, private readonly tracker: StageTracker) {
    super(settings);
  }

  override async complete(request: LlmRequest): Promise<LlmReply> {
    const started = performance.now();
    try {
      const reply = await super.complete(request);
      this.calls.push({
        ok: true, provider: reply.provider, model: reply.model, tokens: reply.tokens, costUsd: reply.costUsd,
        durationMs: performance.now() - started, failures: reply.failures, error: null,
      });
      return reply;
    } catch (err) {
      this.tracker.threwIn = 'code generation';
      this.calls.push({
        ok: false, provider: null, model: null, tokens: { input: 0, output: 0, total: 0 }, costUsd: null,
        durationMs: performance.now() - started, failures: [], error: err instanceof Error ? err.message : String(err),
      });
      throw err;
    }
  }
}

export class TimedExecutor extends Executor {
  readonly runs: ExecutionResult[] = [];

  constructor(options: ExecutorOptions, private readonly tracker: StageTracker) {
    super(options);
  }

  override async execute(request: ExecutionRequest): Promise<ExecutionResult> {
    try {
      const result = await super.execute(request);
      this.runs.push(result);
      return result;
    } catch (err) {
      this.tracker.threwIn = 'execution';
      throw err;
    }
  }
}

export class TimedRegistry extends CodeRegistry {
  readonly registered: Array<{ entry: RegistryEntry; durationMs: number }> = [];

  constructor(store: RegistryStore, private readonly tracker: StageTracker) {
    super(store);
  }

  override async register(input: RegisterInput, options: RegisterOptions = {}): Promise<RegistryEntry> {
    // Waiting for the result log to be stored is the result log's time, not the registry's.
    await options.after?.then(() => undefined, () => undefined);
    const started = performance.now();
    try {
      const entry = await super.register(input, options);
      this.registered.push({ entry, durationMs: performance.now() - started });
      return entry;
    } catch (err) {
      this.tracker.threwIn = 'registry';
      throw err;
    }
  }
}

export class TimedResults implements ResultStore {
  readonly saved: Array<{ resultId: string; role: string; durationMs: number }> = [];

  constructor(private readonly inner: ResultStore, private readonly tracker: StageTracker) {}

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
