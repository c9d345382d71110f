/**
 * The workflow engine: runs a validated DAG of steps as fast as their dependencies allow (up to a
 * concurrency limit), hands each step its dependencies' envelopes, skips the dependants of a failed step
 * while independent branches run on, and writes the workflow's state after every change so that running
 * the same workflow id again resumes: steps that succeeded (with unchanged specs and recovered dependencies)
 * are not run again.
 */
import type { AutoAgent } from '../agent/auto-agent.js';
import { addTokens, ZERO_TOKENS, type Envelope } from '../agent/envelope.js';
import { workflowBudget } from '../agent/budget.js';
import { newResultId } from '../agent/pipeline.js';
import type { WholeDocumentWorkflowStore as WorkflowStore } from '../storage/types.js';
import type { MeshEventEmitter, WorkflowSummary } from './events.js';
import { resolveWorkflow, type AgentDirectory, type ResolvedStep, type WorkflowStep } from './workflow-spec.js';

export interface WorkflowOptions {
  /** Ignore saved state and run every step. */
  fresh?: boolean;
  /** Cancels the workflow: steps in flight are cancelled, the rest skipped. */
  signal?: AbortSignal;
  /** Most steps running at once (default: the WORKFLOW_CONCURRENCY setting). */
  concurrency?: number;
  /** Most USD the steps of this run may spend together on model calls (see `src/agent/budget.ts`). */
  budgetUsd?: number;
}

/** One envelope per step, in step order, with the run's summary. */
export type WorkflowResult = Envelope[] & { summary: WorkflowSummary };

type StepStatus = 'pending' | 'running' | 'success' | 'failure' | 'skipped';

interface StepState {
  index: number;
  role: string;
  task: string;
  specHash: string;
  status: StepStatus;
  envelope: Envelope | null;
  startedAt: string | null;
  finishedAt: string | null;
}

interface WorkflowState {
  version: 1;
  workflowId: string;
  status: 'running' | 'finished' | 'failed' | 'cancelled';
  startedAt: string;
  updatedAt: string;
  steps: Record<string, StepState>;
}

export interface EngineDeps {
  agents: ReadonlyMap<string, AutoAgent>;
  directory: AgentDirectory;
  events: MeshEventEmitter;
  store: WorkflowStore;
  /** Where the state is stored, for error messages (e.g. `LOG_DIRECTORY=/srv/logs`). */
  storageLocation: string;
  defaultConcurrency: number;
  /** Aborted when the mesh stops in `cancel` mode. */
  stopSignal: AbortSignal;
}

/**
 * The workflow's state could not be saved: the workflow stopped starting steps, ended those whose state was not
 * saved with `errorCategory: 'storage'`, and rejected with this. `results` holds every envelope (what did run,
 * and its spend), so nothing the run learned is lost.
 */
export class WorkflowStorageError extends Error {
  constructor(message: string, readonly results: WorkflowResult, options: { cause: unknown }) {
    super(message, options);
    this.name = 'WorkflowStorageError';
  }
}

function isState(value: unknown): value is WorkflowState {
  const v = value as WorkflowState | null;
  return !!v && v.version === 1 && typeof v.workflowId === 'string' && typeof v.steps === 'object' && v.steps !== null;
}

function skippedEnvelope(step: ResolvedStep, agent: AutoAgent | undefined, error: string, category: Envelope['errorCategory']): Envelope {
  return {
    status: 'skipped', output: null, code: null, repairs: 0, executionTime: 0, tokens: { ...ZERO_TOKENS }, costUsd: 0,
    resultId: newResultId(), functionId: null, error, errorCategory: category, attempts: [], cached: false, logs: [],
    agentId: agent?.agentId ?? step.role, role: step.role, provider: null, model: null, stepId: step.id,
  };
}

/** Summed cost; null when any envelope used a model with no known price. */
function sumCost(envelopes: Envelope[]): number | null {
  let costUsd: number | null = 0;
  for (const e of envelopes) costUsd = costUsd === null || e.costUsd === null ? null : costUsd + e.costUsd;
  return costUsd;
}

function sumTokens(envelopes: Envelope[]): Envelope['tokens'] {
  return envelopes.reduce((sum, e) => addTokens(sum, e.tokens), { ...ZERO_TOKENS });
}

function summarize(workflowId: string, envelopes: Envelope[], started: number, cancelled: boolean): WorkflowSummary {
  // Tokens and cost follow one rule: this run's spend; what recovered steps cost in earlier runs is reported apart.
  const ran = envelopes.filter((e) => !e.recovered);
  const recovered = envelopes.filter((e) => e.recovered);
  return {
    workflowId,
    steps: envelopes.length,
    succeeded: envelopes.filter((e) => e.status === 'success').length,
    failed: envelopes.filter((e) => e.status === 'failure').length,
    skipped: envelopes.filter((e) => e.status === 'skipped').length,
    recovered: recovered.length,
    cached: ran.filter((e) => e.cached).length,
    tokens: sumTokens(ran),
    costUsd: sumCost(ran),
    recoveredTokens: sumTokens(recovered),
    recoveredCostUsd: sumCost(recovered),
    executionTime: (performance.now() - started) / 1000,
    cancelled,
  };
}

/**
 * Runs one workflow. Resolves with every envelope; rejects only for an invalid spec, or with a
 * {@link WorkflowStorageError} (holding every envelope) when its state could not be saved.
 */
export async function runWorkflow(
  deps: EngineDeps,
  workflowId: string,
  steps: WorkflowStep[],
  options: WorkflowOptions = {},
): Promise<WorkflowResult> {
  const started = performance.now();
  const resolved = resolveWorkflow(workflowId, steps, deps.directory);
  const concurrency = options.concurrency ?? deps.defaultConcurrency;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`Workflow concurrency must be a whole number >= 1; got ${String(concurrency)}.`);
  }
  const budget = workflowBudget(workflowId, options.budgetUsd, new Set(resolved.map((s) => deps.agents.get(s.role) as AutoAgent)));
  const previous = options.fresh ? null : await deps.store.load(workflowId);
  if (previous !== null && !isState(previous)) {
    throw new Error(`The saved state of workflow "${workflowId}" is not a workflow state; run it with { fresh: true } to start over.`);
  }

  // Recover succeeded steps whose spec is unchanged and whose dependencies were recovered too: a step that
  // runs again may answer differently, so everything downstream of it runs again as well.
  const recovered = new Map<string, Envelope>();
  if (previous) {
    const order = [...resolved];
    let changed = true;
    while (changed) {
      changed = false;
      for (const step of order) {
        if (recovered.has(step.id)) continue;
        const saved = previous.steps[step.id];
        if (saved?.status === 'success' && saved.envelope && saved.specHash === step.specHash &&
          step.dependsOn.every((d) => recovered.has(d))) {
          recovered.set(step.id, { ...saved.envelope, stepId: step.id, recovered: true });
          changed = true;
        }
      }
    }
  }

  const now = (): string => new Date().toISOString();
  const state: WorkflowState = {
    version: 1,
    workflowId,
    status: 'running',
    startedAt: now(),
    updatedAt: now(),
    steps: Object.fromEntries(resolved.map((step) => {
      const envelope = recovered.get(step.id) ?? null;
      return [step.id, {
        index: step.index, role: step.role, task: step.task, specHash: step.specHash,
        status: envelope ? 'success' : 'pending', envelope, startedAt: null, finishedAt: null,
      } satisfies StepState];
    })),
  };

  const signals = [deps.stopSignal, ...(options.signal ? [options.signal] : [])];
  const cancelSignal = AbortSignal.any(signals);
  // Aborted at the first failed save: steps in flight stop, so no model is paid for a result that cannot be kept.
  const storageStop = new AbortController();
  const stepSignal = AbortSignal.any([cancelSignal, storageStop.signal]);
  const { events } = deps;
  const results = new Map<string, Envelope>();
  // Steps whose end has been announced. A dependant starts only after its dependencies' ends were announced, so
  // every event of a step follows its dependencies' finished events, and starts on durable state.
  const announced = new Set<string>();
  // Steps holding a concurrency slot: from their start until their end is announced. A slot frees only once the
  // step's end is saved, so no step starts after a save that failed.
  const running = new Set<string>();
  let storageFailure: { cause: unknown; message: string } | null = null;
  let pump: () => void = () => undefined;

  const announce = (step: ResolvedStep, envelope: Envelope): void => {
    results.set(step.id, envelope);
    announced.add(step.id);
    running.delete(step.id);
    if (envelope.status === 'success') events.emit('step:finished', { workflowId, stepId: step.id, envelope });
    else if (envelope.status === 'failure') events.emit('step:failed', { workflowId, stepId: step.id, envelope });
    else events.emit('step:skipped', { workflowId, stepId: step.id, reason: envelope.error ?? '', envelope });
    pump();
  };

  /** The end of a step whose state could not be saved: it failed with `storage` (a skip stays a skip). */
  const unsaved = (step: ResolvedStep, envelope: Envelope): Envelope => {
    const why = (storageFailure as { message: string }).message;
    const entry = state.steps[step.id] as StepState;
    const ended: Envelope = envelope.status === 'skipped'
      ? { ...envelope, error: `Skipped: ${why}`, errorCategory: 'storage' }
      : { ...envelope, status: 'failure', output: null, errorCategory: 'storage',
        error: `${envelope.status === 'success' ? 'The step succeeded, but its result' : 'The step was stopped; its state'} was not saved: ${why}` };
    entry.status = ended.status;
    entry.envelope = ended;
    return ended;
  };

  // Saves are coalesced: one write in flight at a time, and when it lands the next one writes the latest
  // state, however many changes came meanwhile. A 100-step run then makes a handful of writes instead of
  // one per change, each serialized from the live state when it starts. A step's end is announced once the
  // write that holds it has landed. The first failed write stops the workflow (see `failStorage`).
  let dirty = false;
  let flushing: Promise<void> | null = null;
  let ends: Array<{ step: ResolvedStep; envelope: Envelope }> = [];
  const failStorage = (cause: unknown): void => {
    const detail = cause instanceof Error ? cause.message : String(cause);
    storageFailure = {
      cause,
      message: `the state of workflow "${workflowId}" could not be saved under ${deps.storageLocation} (${detail}). ` +
        'Make that directory writable (or free space on its disk) and run the workflow again; saved steps resume.',
    };
    storageStop.abort(new Error(storageFailure.message));
  };
  const flush = async (): Promise<void> => {
    while (dirty && !storageFailure) {
      dirty = false;
      const due = ends;
      ends = [];
      state.updatedAt = now();
      try {
        await deps.store.save(workflowId, state);
      } catch (err) {
        failStorage(err);
        ends = [...due, ...ends];
        break;
      }
      for (const end of due) announce(end.step, end.envelope);
    }
    flushing = null;
    if (storageFailure) {
      const lost = ends;
      ends = [];
      for (const end of lost) announce(end.step, unsaved(end.step, end.envelope));
    }
  };
  const persist = (): void => {
    if (storageFailure) return;
    dirty = true;
    flushing ??= flush();
  };
  const settled = async (): Promise<void> => {
    while (flushing) await flushing;
  };

  const finishStep = (step: ResolvedStep, envelope: Envelope): void => {
    if (storageFailure) {
      announce(step, unsaved(step, envelope));
      return;
    }
    const entry = state.steps[step.id] as StepState;
    entry.status = envelope.status;
    entry.envelope = envelope;
    entry.finishedAt = now();
    // Announced once the new state is on disk: a listener that stops the process (or a crash right after)
    // never loses a step it was told had finished.
    ends.push({ step, envelope });
    persist();
  };

  const runStep = async (step: ResolvedStep): Promise<Envelope> => {
    const agent = deps.agents.get(step.role) as AutoAgent;
    const depEnvelopes = Object.fromEntries(step.dependsOn.map((d) => [d, results.get(d) as Envelope]));
    const context = {
      ...step.context,
      ...depEnvelopes,
      previousStepResults: depEnvelopes,
      workflowId,
      stepId: step.id,
    };
    const entry = state.steps[step.id] as StepState;
    entry.status = 'running';
    entry.startedAt = now();
    persist();
    events.emit('step:started', { workflowId, stepId: step.id, role: step.role, task: step.task });
    const envelope = await agent.executeStep({
      task: step.task,
      context,
      outputSchema: step.outputSchema,
      signal: stepSignal,
      stepId: step.id,
      dependencies: step.dependsOn,
      deferLog: true,
      ...(budget ? { workflowBudget: budget } : {}),
      onRepair: (info) => events.emit('step:repaired', { workflowId, stepId: step.id, role: step.role, ...info }),
      onLlmEvent: (e) => events.emit(`llm:${e.kind}`, { workflowId, stepId: step.id, role: step.role, ...e }),
    });
    return { ...envelope, stepId: step.id };
  };

  events.emit('workflow:started', { workflowId, steps: resolved.length, resumed: recovered.size > 0 });
  for (const step of resolved) {
    const envelope = recovered.get(step.id);
    if (envelope) {
      results.set(step.id, envelope);
      announced.add(step.id);
      events.emit('step:recovered', { workflowId, stepId: step.id, envelope });
    }
  }
  // The first save lands before any step starts: a workflow whose state cannot be kept makes no model call.
  persist();
  await settled();

  const waiting = new Set(resolved.filter((s) => !recovered.has(s.id)));
  let failure: unknown = null;
  await new Promise<void>((resolve) => {
    // Announcing an end pumps again; inside a pass that only asks for another pass, so a long chain of skips
    // does not nest one call per step.
    let pumping = false;
    let again = false;
    pump = (): void => {
      if (pumping) {
        again = true;
        return;
      }
      pumping = true;
      let progressed = true;
      while (progressed || again) {
        progressed = false;
        again = false;
        for (const step of waiting) {
          if (!step.dependsOn.every((d) => announced.has(d))) continue;
          const agent = deps.agents.get(step.role);
          if (storageFailure) {
            waiting.delete(step);
            // finishStep words the storage failure.
            finishStep(step, skippedEnvelope(step, agent, '', 'storage'));
            progressed = true;
            continue;
          }
          // Once a step could not pay its next call, the steps not yet started are not started.
          if (budget?.refusal) {
            waiting.delete(step);
            finishStep(step, skippedEnvelope(step, agent, `Skipped: ${budget.label} ran out before this step started. ${budget.refusal}`, 'budget'));
            progressed = true;
            continue;
          }
          const bad = step.dependsOn.find((d) => results.get(d)?.status !== 'success');
          if (bad !== undefined) {
            const dep = results.get(bad) as Envelope;
            const why = dep.status === 'skipped' ? 'was skipped' : `failed (${dep.errorCategory ?? 'error'}: ${(dep.error ?? '').slice(0, 200)})`;
            waiting.delete(step);
            finishStep(step, skippedEnvelope(step, agent, `Skipped: step "${bad}" it depends on ${why}.`, 'dependency'));
            progressed = true;
            continue;
          }
          if (cancelSignal.aborted) {
            waiting.delete(step);
            finishStep(step, skippedEnvelope(step, agent, 'Skipped: the workflow was cancelled before this step started.', null));
            progressed = true;
            continue;
          }
          if (running.size >= concurrency) continue;
          waiting.delete(step);
          running.add(step.id);
          // The step's end is announced (freeing its slot and pumping again) once it is saved.
          runStep(step).then((envelope) => finishStep(step, envelope), (err: unknown) => {
            // executeTask throws only for programmer errors; keep the run going, report it at the end.
            failure ??= err;
            finishStep(step, skippedEnvelope(step, agent, `The step could not run: ${err instanceof Error ? err.message : String(err)}`, null));
          });
          progressed = true;
        }
      }
      pumping = false;
      if (waiting.size === 0 && running.size === 0) resolve();
    };
    const onAbort = (): void => pump();
    cancelSignal.addEventListener('abort', onAbort, { once: true });
    pump();
  });

  const cancelled = cancelSignal.aborted;
  state.status = cancelled ? 'cancelled' : resolved.every((step) => results.get(step.id)?.status === 'success') ? 'finished' : 'failed';
  persist();
  await settled();
  const envelopes = resolved.map((step) => results.get(step.id) as Envelope);
  const summary = summarize(workflowId, envelopes, started, cancelled);
  const result = Object.assign(envelopes, { summary });
  if (storageFailure) {
    const { cause, message } = storageFailure as { cause: unknown; message: string };
    throw new WorkflowStorageError(`Workflow "${workflowId}" stopped: ${message}`, result, { cause });
  }
  if (failure) throw failure;
  events.emit('workflow:finished', { workflowId, summary });
  return result;
}
