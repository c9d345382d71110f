/**
 * The workflow engine: runs a validated DAG of steps as fast as their dependencies allow (up to a
 * concurrency limit), hands each step its dependencies' envelopes, skips the dependants of a failed step
 * while independent branches run on, and writes the workflow's state after every change so that running
 * the same workflow id again resumes: steps that succeeded (with unchanged specs and recovered dependencies)
 * are not run again.
 */
import type { AutoAgent } from '../agent/auto-agent.js';
import { addTokens, ZERO_TOKENS, type Envelope } from '../agent/envelope.js';
import { newResultId } from '../agent/pipeline.js';
import type { WorkflowStore } from '../storage/index.js';
import type { MeshEventEmitter, WorkflowSummary } from './events.js';
import { resolveWorkflow, type AgentDirectory, type ResolvedStep, type WorkflowStep } from './workflow-spec.js';

export interface WorkflowOptions {
  /** Ignore saved state and run every step. */
  fresh?: boolean;
  /** Cancels the workflow: steps in flight are cancelled, the rest skipped. */
  signal?: AbortSignal;
  /** Most steps running at once (default: the WORKFLOW_CONCURRENCY setting). */
  concurrency?: number;
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
  defaultConcurrency: number;
  /** Aborted when the mesh stops in `cancel` mode. */
  stopSignal: AbortSignal;
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

function summarize(workflowId: string, envelopes: Envelope[], started: number, cancelled: boolean): WorkflowSummary {
  let costUsd: number | null = 0;
  for (const e of envelopes) costUsd = costUsd === null || e.costUsd === null ? null : costUsd + e.costUsd;
  return {
    workflowId,
    steps: envelopes.length,
    succeeded: envelopes.filter((e) => e.status === 'success').length,
    failed: envelopes.filter((e) => e.status === 'failure').length,
    skipped: envelopes.filter((e) => e.status === 'skipped').length,
    recovered: envelopes.filter((e) => e.recovered).length,
    cached: envelopes.filter((e) => e.cached && !e.recovered).length,
    tokens: envelopes.filter((e) => !e.recovered).reduce((sum, e) => addTokens(sum, e.tokens), { ...ZERO_TOKENS }),
    costUsd,
    executionTime: (performance.now() - started) / 1000,
    cancelled,
  };
}

/** Runs one workflow. Resolves with every envelope; throws only for an invalid spec or a storage failure. */
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

  // Saves are coalesced: one write in flight at a time, and when it lands the next one writes the latest
  // state, however many changes came meanwhile. A 100-step run then makes a handful of writes instead of
  // one per change, each serialized from the live state when it starts. The first failure is rethrown at
  // the end. Step events wait for the write that holds their step's new state.
  let dirty = false;
  let flushing: Promise<void> | null = null;
  let announcements: Array<() => void> = [];
  let saveError: unknown = null;
  const flush = async (): Promise<void> => {
    while (dirty) {
      dirty = false;
      const due = announcements;
      announcements = [];
      state.updatedAt = now();
      try {
        await deps.store.save(workflowId, state);
      } catch (err) {
        saveError ??= err;
      }
      for (const announce of due) announce();
    }
    flushing = null;
  };
  const persist = (announce?: () => void): void => {
    dirty = true;
    if (announce) announcements.push(announce);
    flushing ??= flush();
  };
  const settled = async (): Promise<void> => {
    while (flushing) await flushing;
  };
  persist();

  const signals = [deps.stopSignal, ...(options.signal ? [options.signal] : [])];
  const cancelSignal = AbortSignal.any(signals);
  const { events } = deps;
  events.emit('workflow:started', { workflowId, steps: resolved.length, resumed: recovered.size > 0 });

  const results = new Map<string, Envelope>();
  for (const step of resolved) {
    const envelope = recovered.get(step.id);
    if (envelope) {
      results.set(step.id, envelope);
      events.emit('step:recovered', { workflowId, stepId: step.id, envelope });
    }
  }

  const finishStep = (step: ResolvedStep, envelope: Envelope): void => {
    results.set(step.id, envelope);
    const entry = state.steps[step.id] as StepState;
    entry.status = envelope.status;
    entry.envelope = envelope;
    entry.finishedAt = now();
    // Announced once the new state is on disk: a listener that stops the process (or a crash right after)
    // never loses a step it was told had finished.
    persist(() => {
      if (envelope.status === 'success') events.emit('step:finished', { workflowId, stepId: step.id, envelope });
      else if (envelope.status === 'failure') events.emit('step:failed', { workflowId, stepId: step.id, envelope });
      else events.emit('step:skipped', { workflowId, stepId: step.id, reason: envelope.error ?? '', envelope });
    });
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
    const envelope = await agent.executeTask({
      task: step.task,
      context,
      signal: cancelSignal,
      stepId: step.id,
      deferLog: true,
      onRepair: (info) => events.emit('step:repaired', { workflowId, stepId: step.id, role: step.role, ...info }),
    });
    return { ...envelope, stepId: step.id };
  };

  const waiting = new Set(resolved.filter((s) => !recovered.has(s.id)));
  let inFlight = 0;
  let failure: unknown = null;
  await new Promise<void>((resolve) => {
    const pump = (): void => {
      let progressed = true;
      while (progressed) {
        progressed = false;
        for (const step of waiting) {
          const depResults = step.dependsOn.map((d) => results.get(d));
          if (depResults.some((r) => r === undefined)) continue;
          const agent = deps.agents.get(step.role);
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
          if (inFlight >= concurrency) continue;
          waiting.delete(step);
          inFlight += 1;
          runStep(step).then((envelope) => finishStep(step, envelope), (err: unknown) => {
            // executeTask throws only for programmer errors; keep the run going, report it at the end.
            failure ??= err;
            finishStep(step, skippedEnvelope(step, agent, `The step could not run: ${err instanceof Error ? err.message : String(err)}`, null));
          }).finally(() => {
            inFlight -= 1;
            pump();
          });
          progressed = true;
        }
      }
      if (waiting.size === 0 && inFlight === 0) resolve();
    };
    const onAbort = (): void => pump();
    cancelSignal.addEventListener('abort', onAbort, { once: true });
    pump();
  });

  const envelopes = resolved.map((step) => results.get(step.id) as Envelope);
  const cancelled = cancelSignal.aborted;
  state.status = cancelled ? 'cancelled' : envelopes.every((e) => e.status === 'success') ? 'finished' : 'failed';
  persist();
  await settled();
  if (saveError) throw saveError;
  if (failure) throw failure;
  const summary = summarize(workflowId, envelopes, started, cancelled);
  events.emit('workflow:finished', { workflowId, summary });
  return Object.assign(envelopes, { summary });
}
