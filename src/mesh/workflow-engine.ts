/**
 * The workflow engine: runs a planned DAG of steps as fast as their dependencies allow (up to a concurrency
 * limit), hands each step its dependencies' envelopes, skips the dependants of a failed step while independent
 * branches run on, and keeps one record per step in the workflow store so that running the same workflow id again
 * resumes: steps that succeeded (with unchanged specs and recovered dependencies) are not run again.
 *
 * Its parts: the {@link Scheduler} decides what starts and what is skipped; the {@link WorkflowState} holds the
 * run's lease and writes its records; a {@link StepRunner} runs each step, wherever it runs. The engine holds
 * only data: no agent, no closure of the user's, no schema object.
 */
import type { Span } from '@opentelemetry/api';
import { addTokens, type Envelope, ZERO_TOKENS } from '../agent/envelope.js';
import { isStorageError } from '../storage/errors.js';
import type { StepRecord, WorkflowHeader, WorkflowStatus, WorkflowStore } from '../storage/types.js';
import { failSpan, inSpan } from '../telemetry/spans.js';
import { describeEnvelope } from '../telemetry/task-telemetry.js';
import type { MeshEventEmitter, WorkflowSummary } from './events.js';
import { type Decision, type Halts, Scheduler, type SkipReason } from './scheduler.js';
import { type StepCall, type StepProgress, type StepRunner, unranStepEnvelope } from './step-runner.js';
import type { PlannedStep } from './workflow-spec.js';
import {
  claimWorkflow,
  type LeaseTiming,
  newOwner,
  recoverSteps,
  storedEnvelope,
  WorkflowState,
} from './workflow-state.js';

export interface WorkflowOptions {
  /** Ignore saved state and run every step. */
  fresh?: boolean;
  /** Cancels the workflow: steps in flight are cancelled, the rest skipped. */
  signal?: AbortSignal;
  /** Most steps running at once (default: the WORKFLOW_CONCURRENCY setting). */
  concurrency?: number;
  /** Most USD the steps of this run may spend together on model calls (see `src/agent/budget.ts`). */
  budgetUsd?: number;
  /**
   * When another run (in this or another process) holds the workflow id: wait until it releases it or its lease
   * expires, then run (resuming what it finished). Without it, such a run is refused with a `WorkflowLockedError`.
   */
  wait?: boolean;
}

/** One envelope per step, in step order, with the run's summary. */
export type WorkflowResult = Envelope[] & { summary: WorkflowSummary };

/** What the engine runs: the validated steps, as data, and the run's budget. */
export interface WorkflowPlan {
  workflowId: string;
  steps: PlannedStep[];
  /** The budget the steps share (`budgetUsd`), already checked against the agents' prices; null for none. */
  budget: { label: string; limitUsd: number } | null;
}

export interface EngineDeps {
  runner: StepRunner;
  events: MeshEventEmitter;
  store: WorkflowStore;
  /** Where the state is stored, for error messages (e.g. `LOG_DIRECTORY=/srv/logs`). */
  storageLocation: string;
  defaultConcurrency: number;
  lease: LeaseTiming;
  /** Aborted when the mesh stops in `cancel` mode. */
  stopSignal: AbortSignal;
}

/**
 * The workflow's state could not be saved (or this run lost its lease on the workflow): the workflow stopped
 * starting steps, ended those whose state was not saved with `errorCategory: 'storage'`, and rejected with this.
 * `results` holds every envelope (what did run, and its spend), so nothing the run learned is lost.
 */
export class WorkflowStorageError extends Error {
  constructor(
    message: string,
    readonly results: WorkflowResult,
    options: { cause: unknown },
  ) {
    super(message, options);
    this.name = 'WorkflowStorageError';
  }
}

function checkConcurrency(concurrency: number): number {
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`Workflow concurrency must be a whole number >= 1; got ${String(concurrency)}.`);
  }
  return concurrency;
}

function skippedEnvelope(step: PlannedStep, error: string, category: Envelope['errorCategory']): Envelope {
  return unranStepEnvelope({ role: step.role, stepId: step.id }, 'skipped', error, category);
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

const now = (): string => new Date().toISOString();

/**
 * Runs one workflow. Resolves with every envelope; rejects for an invalid option, with the store's `locked` error
 * when another run holds the id (unless `wait`), or with a {@link WorkflowStorageError} (holding every envelope)
 * when its state could not be saved.
 */
export function runWorkflow(
  deps: EngineDeps,
  plan: WorkflowPlan,
  options: WorkflowOptions = {},
): Promise<WorkflowResult> {
  return inSpan(
    'automesh.workflow',
    { attributes: { 'automesh.workflow_id': plan.workflowId, 'automesh.workflow.steps': plan.steps.length } },
    () => runPlan(deps, plan, options),
    (span, result) => describeSummary(span, result.summary),
  );
}

function describeSummary(span: Span, summary: WorkflowSummary): void {
  span.setAttributes({
    'automesh.workflow.succeeded': summary.succeeded,
    'automesh.workflow.failed': summary.failed,
    'automesh.workflow.skipped': summary.skipped,
    'automesh.workflow.recovered': summary.recovered,
    'automesh.workflow.cached': summary.cached,
    'automesh.workflow.cancelled': summary.cancelled,
    'gen_ai.usage.input_tokens': summary.tokens.input,
    'gen_ai.usage.output_tokens': summary.tokens.output,
  });
  if (summary.costUsd !== null) span.setAttribute('automesh.cost_usd', summary.costUsd);
  if (summary.failed > 0 || summary.cancelled)
    failSpan(span, summary.cancelled ? 'cancelled' : `${summary.failed} of ${summary.steps} steps failed`);
}

async function runPlan(deps: EngineDeps, plan: WorkflowPlan, options: WorkflowOptions): Promise<WorkflowResult> {
  const started = performance.now();
  const concurrency = checkConcurrency(options.concurrency ?? deps.defaultConcurrency);
  const cancelSignal = AbortSignal.any([deps.stopSignal, ...(options.signal ? [options.signal] : [])]);
  const run = new WorkflowRun(deps, plan, concurrency, cancelSignal);
  const lease = await claimWorkflow(deps.store, plan.workflowId, run.owner, deps.lease, {
    wait: options.wait === true,
    signal: cancelSignal,
  });
  const state = new WorkflowState(deps.store, lease, deps.lease, (err) => run.leaseLost(err));
  try {
    await run.begin(state, options.fresh === true);
    await run.schedule();
    return await run.finish(started);
  } finally {
    // The run's own outcome (its result, or why it failed) is what the caller gets; a lease that could not be given
    // back is reported here and expires by itself.
    await state.close().catch((err: unknown) => {
      process.stderr.write(
        `automesh: workflow "${plan.workflowId}" could not give up its lease (${err instanceof Error ? err.message : String(err)}); `
          + `it expires by itself within ${deps.lease.ttlMs / 1000} s, and the next run of the id takes over then.\n`,
      );
    });
  }
}

/** One run of a workflow, in stages: {@link begin}, {@link schedule}, {@link finish}. */
class WorkflowRun {
  readonly owner = newOwner();
  private readonly workflowId: string;
  private readonly steps: ReadonlyMap<string, PlannedStep>;
  private readonly results = new Map<string, Envelope>();
  private scheduler: Scheduler;
  private state: WorkflowState | null = null;
  private header: WorkflowHeader | null = null;
  /** Each step's last write: its end is written after its start landed. */
  private readonly writes = new Map<string, Promise<void>>();
  /** When each step began running: its final record keeps it, so a step's record shows how long it ran. */
  private readonly stepStarts = new Map<string, string>();
  /** Aborted at the first failed save: steps in flight stop, so no model is paid for a result that cannot be kept. */
  private readonly storageStop = new AbortController();
  private readonly stepSignal: AbortSignal;
  private storageFailure: { cause: unknown; message: string } | null = null;
  private budgetRefusal: string | null = null;
  /** What the run's ended steps spent, for the budget of the next step. */
  private spentUsd = 0;
  /** A step that could not be run at all (a programmer error): reported once the run ended. */
  private failure: unknown = null;
  private scheduling = false;
  private pumping = false;
  private again = false;
  private whenDone: () => void = () => undefined;

  constructor(
    private readonly deps: EngineDeps,
    private readonly plan: WorkflowPlan,
    concurrency: number,
    private readonly cancelSignal: AbortSignal,
  ) {
    this.workflowId = plan.workflowId;
    this.steps = new Map(plan.steps.map((step) => [step.id, step]));
    this.scheduler = new Scheduler(plan.steps, concurrency);
    this.stepSignal = AbortSignal.any([cancelSignal, this.storageStop.signal]);
  }

  /**
   * Loads what earlier runs saved, recovers what need not run again, and writes the header (and resets the stale
   * records of steps that run again) before any step starts: a workflow whose state cannot be kept makes no model
   * call.
   */
  async begin(state: WorkflowState, fresh: boolean): Promise<void> {
    this.state = state;
    const snapshot = await this.deps.store.load(this.workflowId).catch((err: unknown) => {
      // A fresh run overwrites what it cannot read; any other run must not guess what was finished.
      if (fresh && isStorageError(err, 'damaged')) return null;
      throw err;
    });
    const recovered = fresh ? new Map<string, Envelope>() : recoverSteps(this.plan.steps, snapshot);
    this.scheduler = new Scheduler(
      this.plan.steps,
      this.scheduler.concurrency,
      new Map([...recovered.keys()].map((id) => [id, 'success' as const])),
    );
    this.header = {
      workflowId: this.workflowId,
      status: 'running',
      stepIds: this.plan.steps.map((s) => s.id),
      plan: this.plan.steps.map((s) => ({ stepId: s.id, role: s.role, dependsOn: [...s.dependsOn] })),
      startedAt: now(),
      updatedAt: now(),
    };
    this.deps.events.emit('workflow:started', {
      workflowId: this.workflowId,
      steps: this.plan.steps.length,
      resumed: recovered.size > 0,
    });
    for (const [stepId, envelope] of recovered) {
      this.results.set(stepId, envelope);
      this.deps.events.emit('step:recovered', { workflowId: this.workflowId, stepId, envelope });
    }
    // A stale record (an earlier run's result of a step that runs again) must not be recovered later should this
    // run stop before that step ends: it is reset to pending.
    const stale = new Set([
      ...(snapshot?.steps ?? []).map((r) => r.stepId),
      ...(snapshot?.damaged ?? []).filter((d) => d.kind === 'step').map((d) => d.id),
    ]);
    const resets = this.plan.steps.filter((step) => stale.has(step.id) && !recovered.has(step.id));
    try {
      await state.saveHeader(this.header);
      await Promise.all(resets.map((step) => state.saveStep(this.record(step, 'pending', null))));
    } catch (err) {
      this.failStorage(err);
    }
  }

  /** Starts and skips steps as the scheduler says, until every step ended. */
  schedule(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.whenDone = resolve;
      this.scheduling = true;
      this.cancelSignal.addEventListener('abort', () => this.pump(), { once: true });
      this.pump();
    });
  }

  /** Writes the header's end state and sums the run up; rejects when a save failed or a step could not run. */
  async finish(started: number): Promise<WorkflowResult> {
    const cancelled = this.cancelSignal.aborted;
    const status: WorkflowStatus = cancelled
      ? 'cancelled'
      : this.plan.steps.every((step) => this.results.get(step.id)?.status === 'success')
        ? 'finished'
        : 'failed';
    if (!this.storageFailure) {
      try {
        await (this.state as WorkflowState).saveHeader({
          ...(this.header as WorkflowHeader),
          status,
          updatedAt: now(),
        });
      } catch (err) {
        this.failStorage(err);
      }
    }
    const envelopes = this.plan.steps.map((step) => this.results.get(step.id) as Envelope);
    const summary = summarize(this.workflowId, envelopes, started, cancelled);
    const result = Object.assign(envelopes, { summary });
    if (this.storageFailure) {
      const { cause, message } = this.storageFailure;
      throw new WorkflowStorageError(`Workflow "${this.workflowId}" stopped: ${message}`, result, { cause });
    }
    if (this.failure) throw this.failure;
    this.deps.events.emit('workflow:finished', { workflowId: this.workflowId, summary });
    return result;
  }

  private halts(): Halts {
    return {
      storage: this.storageFailure !== null,
      budget: this.budgetRefusal !== null,
      cancelled: this.cancelSignal.aborted,
    };
  }

  /**
   * Acts on the scheduler's decisions until it has none. Announcing an end pumps again; inside a pass that only
   * asks for another pass, so a long chain of skips does not nest one call per step.
   */
  private pump(): void {
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    do {
      this.again = false;
      for (const decision of this.scheduler.next(this.halts())) this.act(decision);
    } while (this.again);
    this.pumping = false;
    if (this.scheduler.done) this.whenDone();
  }

  private act(decision: Decision): void {
    const step = this.steps.get(decision.stepId) as PlannedStep;
    if (decision.kind === 'skip') {
      this.end(step, skippedEnvelope(step, ...this.skipText(decision.reason)));
      return;
    }
    this.runStep(step).then(
      (envelope) => this.end(step, envelope),
      (err: unknown) => {
        this.failure ??= err;
        this.end(
          step,
          skippedEnvelope(step, `The step could not run: ${err instanceof Error ? err.message : String(err)}`, null),
        );
      },
    );
  }

  private skipText(reason: SkipReason): [string, Envelope['errorCategory']] {
    switch (reason.kind) {
      case 'storage':
        // end() words the storage failure.
        return ['', 'storage'];
      case 'budget': {
        const label = this.plan.budget?.label ?? 'the workflow budget';
        return [`Skipped: ${label} ran out before this step started. ${this.budgetRefusal ?? ''}`, 'budget'];
      }
      case 'dependency': {
        const dep = this.results.get(reason.dependency) as Envelope;
        const why =
          dep.status === 'skipped'
            ? 'was skipped'
            : `failed (${dep.errorCategory ?? 'error'}: ${(dep.error ?? '').slice(0, 200)})`;
        return [`Skipped: step "${reason.dependency}" it depends on ${why}.`, 'dependency'];
      }
      case 'cancelled':
        return ['Skipped: the workflow was cancelled before this step started.', null];
    }
  }

  private record(
    step: PlannedStep,
    status: StepRecord['status'],
    envelope: Envelope | null,
    startedAt: string | null = null,
  ): StepRecord {
    return {
      stepId: step.id,
      index: step.index,
      role: step.role,
      task: step.task,
      specHash: step.specHash,
      status,
      envelope: envelope ? storedEnvelope(envelope) : null,
      startedAt,
      finishedAt: envelope ? now() : null,
    };
  }

  /** Writes a step's record after its earlier write; the first failure stops the workflow. */
  private write(record: StepRecord): Promise<boolean> {
    const state = this.state as WorkflowState;
    const previous = this.writes.get(record.stepId) ?? Promise.resolve();
    const written = previous.then(async () => {
      if (this.storageFailure) return false;
      try {
        await state.saveStep(record);
        return true;
      } catch (err) {
        this.failStorage(err);
        return false;
      }
    });
    this.writes.set(
      record.stepId,
      written.then(() => undefined),
    );
    return written;
  }

  private async runStep(step: PlannedStep): Promise<Envelope> {
    const startedAt = now();
    this.stepStarts.set(step.id, startedAt);
    void this.write(this.record(step, 'running', null, startedAt));
    const { workflowId } = this;
    this.deps.events.emit('step:started', { workflowId, stepId: step.id, role: step.role, task: step.task });
    const attributes = {
      'automesh.workflow_id': workflowId,
      'automesh.step_id': step.id,
      'gen_ai.agent.name': step.role,
    };
    // The step's span is the parent of the task wherever it runs: here, on a mesh call, or on a dispatched job.
    const envelope = await inSpan(
      'automesh.step',
      { attributes },
      () => this.deps.runner.run(this.callOf(step), this.stepSignal, (event) => this.progress(step, event)),
      describeEnvelope,
    );
    return { ...envelope, stepId: step.id };
  }

  private callOf(step: PlannedStep): StepCall {
    const depEnvelopes = Object.fromEntries(step.dependsOn.map((d) => [d, this.results.get(d) as Envelope]));
    const { budget } = this.plan;
    return {
      workflowId: this.workflowId,
      stepId: step.id,
      role: step.role,
      task: step.task,
      context: {
        ...step.context,
        ...depEnvelopes,
        previousStepResults: depEnvelopes,
        workflowId: this.workflowId,
        stepId: step.id,
      },
      dependencies: step.dependsOn,
      outputSchema: step.outputSchema,
      budget: budget
        ? { key: this.owner.runId, label: budget.label, limitUsd: budget.limitUsd, spentUsd: this.spentUsd }
        : null,
    };
  }

  private progress(step: PlannedStep, event: StepProgress): void {
    const where = { workflowId: this.workflowId, stepId: step.id, role: step.role };
    if (event.type === 'repaired') {
      const { type: _, ...info } = event;
      this.deps.events.emit('step:repaired', { ...where, ...info });
    } else if (event.type === 'llm') {
      this.deps.events.emit(`llm:${event.event.kind}`, { ...where, ...event.event });
    } else {
      this.budgetRefusal ??= event.message;
    }
  }

  /**
   * A step ended (ran or skipped). Its end is announced once its record is saved: a listener that stops the
   * process (or a crash right after) never loses a step it was told had finished.
   */
  private end(step: PlannedStep, envelope: Envelope): void {
    if (!envelope.recovered) this.spentUsd += envelope.costUsd ?? 0;
    if (this.storageFailure) {
      this.announce(step, this.unsaved(envelope));
      return;
    }
    const record = this.record(step, envelope.status, envelope, this.stepStarts.get(step.id) ?? null);
    void this.write(record).then((saved) => {
      this.announce(step, saved ? envelope : this.unsaved(envelope));
    });
  }

  private announce(step: PlannedStep, envelope: Envelope): void {
    const { workflowId } = this;
    this.results.set(step.id, envelope);
    this.scheduler.ended(step.id, envelope.status);
    if (envelope.status === 'success')
      this.deps.events.emit('step:finished', { workflowId, stepId: step.id, envelope });
    else if (envelope.status === 'failure')
      this.deps.events.emit('step:failed', { workflowId, stepId: step.id, envelope });
    else this.deps.events.emit('step:skipped', { workflowId, stepId: step.id, reason: envelope.error ?? '', envelope });
    this.pump();
  }

  /** The end of a step whose state could not be saved: it failed with `storage` (a skip stays a skip). */
  private unsaved(envelope: Envelope): Envelope {
    const why = (this.storageFailure as { message: string }).message;
    return envelope.status === 'skipped'
      ? { ...envelope, error: `Skipped: ${why}`, errorCategory: 'storage' }
      : {
          ...envelope,
          status: 'failure',
          output: null,
          errorCategory: 'storage',
          error: `${envelope.status === 'success' ? 'The step succeeded, but its result' : 'The step was stopped; its state'} was not saved: ${why}`,
        };
  }

  private failStorage(cause: unknown): void {
    if (this.storageFailure) return;
    const detail = cause instanceof Error ? cause.message : String(cause);
    const message = isStorageError(cause, 'conflict')
      ? `another run took workflow "${this.workflowId}" over after this run's lease expired (${detail}); this run stopped `
        + 'starting steps and leaves the workflow to it'
      : `the state of workflow "${this.workflowId}" could not be saved under ${this.deps.storageLocation} (${detail}). `
        + 'Make that directory writable (or free space on its disk) and run the workflow again; saved steps resume.';
    this.storageFailure = { cause, message };
    this.storageStop.abort(new Error(message));
    // Steps waiting for a slot are skipped now, not when a running step ends.
    if (this.scheduling) this.pump();
  }

  /** The lease could not be renewed: the run stops as for a failed save. */
  leaseLost(cause: unknown): void {
    this.failStorage(cause);
  }
}
