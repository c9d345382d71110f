/**
 * The workflows started through the HTTP service: each run's progress events (from the mesh's events, kept so that
 * a client that connects late still sees the whole run, and told to those following it live), how it ended, and
 * the request problems of starting one (invalid steps 400, an id already running 409, a stopping mesh 503).
 */
import { isAutomeshError } from '../core/errors.js';
import type { MeshEventName, MeshEvents, WorkflowSummary } from '../mesh/events.js';
import type { Mesh } from '../mesh/mesh.js';
import type { WorkflowResult } from '../mesh/workflow-engine.js';
import type { WorkflowStep, WorkflowValidationError } from '../mesh/workflow-spec.js';
import { isStorageError } from '../storage/errors.js';
import { HttpProblem } from './responses.js';

/** One progress event of a run, numbered from 1 in the order it happened (the SSE `id`). */
export interface RunEvent {
  id: number;
  type: string;
  data: unknown;
}

export type RunStatus = 'running' | 'finished' | 'failed' | 'cancelled' | 'error';

/** The events a run reports: the workflow's and its steps', and its model calls' retries and failovers. */
const FORWARDED: readonly MeshEventName[] = [
  'workflow:started',
  'step:started',
  'step:recovered',
  'step:repaired',
  'llm:retry',
  'llm:failover',
  'step:finished',
  'step:failed',
  'step:skipped',
  'workflow:finished',
];

/** Most events one run keeps for late followers (the oldest go first; a run this long is rare). */
const MAX_EVENTS = 10_000;

export class WorkflowRun {
  status: RunStatus = 'running';
  summary: WorkflowSummary | null = null;
  error: string | null = null;
  private readonly kept: RunEvent[] = [];
  private nextId = 1;
  private readonly followers = new Set<() => void>();
  private markStarted: () => void = () => undefined;
  /** Resolves when the engine has taken the run (the id claimed, the state loaded). */
  readonly started = new Promise<void>((resolve) => {
    this.markStarted = resolve;
  });

  constructor(readonly id: string) {}

  get ended(): boolean {
    return this.status !== 'running';
  }

  record(type: string, data: unknown): void {
    this.kept.push({ id: this.nextId++, type, data });
    if (this.kept.length > MAX_EVENTS) this.kept.shift();
    if (type === 'workflow:started') this.markStarted();
    for (const follower of this.followers) follower();
  }

  /** The events after `lastId` (0: all that are kept). */
  eventsAfter(lastId: number): RunEvent[] {
    return this.kept.filter((event) => event.id > lastId);
  }

  /** Calls `follower` after each new event and at the end; returns the function that stops it. */
  follow(follower: () => void): () => void {
    this.followers.add(follower);
    return () => this.followers.delete(follower);
  }

  finish(result: WorkflowResult): void {
    this.summary = result.summary;
    this.status = result.summary.cancelled
      ? 'cancelled'
      : result.every((envelope) => envelope.status === 'success')
        ? 'finished'
        : 'failed';
    this.end();
  }

  fail(err: unknown): void {
    this.error = err instanceof Error ? err.message : String(err);
    this.status = 'error';
    this.record('workflow:error', { workflowId: this.id, message: this.error });
    this.end();
  }

  private end(): void {
    this.markStarted();
    for (const follower of this.followers) follower();
  }
}

export interface StartRequest {
  id: string;
  steps: WorkflowStep[];
  fresh?: boolean;
  budgetUsd?: number;
}

/** Why the mesh refused to start a workflow, as the HTTP problem to answer with. */
function refusal(err: unknown, id: string): HttpProblem {
  const message = err instanceof Error ? err.message : String(err);
  if (isAutomeshError(err, 'invalid-workflow')) {
    const { problems, notFound } = err as WorkflowValidationError;
    return new HttpProblem(400, 'invalid_workflow', message, { problems, notFound });
  }
  if (isStorageError(err, 'locked'))
    return new HttpProblem(409, 'workflow_running', message, {
      hint: `another run of "${id}" holds it: wait for it to end (GET /workflows/${id}), or use another id`,
    });
  if (/mesh\.stop\(\) is in progress/.test(message)) return new HttpProblem(503, 'stopping', message);
  // Started in this process by other code than the service: the mesh runs one run of an id at a time.
  if (/is already running in this mesh/.test(message)) return new HttpProblem(409, 'workflow_running', message);
  // A budget that cannot bound an agent whose model has no price: the request asked for what cannot be done.
  if (/cannot bound what .* spends/.test(message)) return new HttpProblem(400, 'invalid_budget', message);
  if (err instanceof TypeError || err instanceof RangeError) return new HttpProblem(400, 'invalid_workflow', message);
  return new HttpProblem(500, 'internal', message);
}

export class WorkflowRuns {
  private readonly runs = new Map<string, WorkflowRun>();
  private readonly detachers: Array<() => void> = [];

  /** `keep`: most runs remembered; the oldest that ended are forgotten first (their state stays stored). */
  constructor(
    private readonly mesh: Mesh,
    private readonly keep = 100,
  ) {
    for (const name of FORWARDED) {
      const listener = (payload: MeshEvents[typeof name]): void => {
        if ('workflowId' in payload) this.runs.get(payload.workflowId)?.record(name, payload);
      };
      mesh.on(name, listener);
      this.detachers.push(() => mesh.off(name, listener));
    }
  }

  get(id: string): WorkflowRun | undefined {
    return this.runs.get(id);
  }

  /**
   * Starts a run and resolves once the engine has taken it, with the run and its completion; an invalid workflow
   * or an id another run holds rejects with the {@link HttpProblem} to answer.
   */
  async start(request: StartRequest): Promise<{ run: WorkflowRun; done: Promise<void> }> {
    if (this.runs.get(request.id)?.ended === false) {
      throw new HttpProblem(409, 'workflow_running', `Workflow "${request.id}" is already running on this service.`, {
        hint: `follow it (GET /workflows/${request.id}/events), or start another with another id`,
      });
    }
    const run = new WorkflowRun(request.id);
    this.runs.set(request.id, run);
    this.forgetOld();
    const options = {
      ...(request.fresh !== undefined ? { fresh: request.fresh } : {}),
      ...(request.budgetUsd !== undefined ? { budgetUsd: request.budgetUsd } : {}),
    };
    let refused: unknown = null;
    const done = this.mesh.workflow(request.id, request.steps, options).then(
      (result) => run.finish(result),
      (err: unknown) => {
        if (!run.ended && run.eventsAfter(0).length === 0) refused = err;
        run.fail(err);
      },
    );
    await Promise.race([run.started, done]);
    if (refused !== null) {
      this.runs.delete(request.id);
      throw refusal(refused, request.id);
    }
    return { run, done };
  }

  private forgetOld(): void {
    for (const [id, run] of this.runs) {
      if (this.runs.size <= this.keep) break;
      if (run.ended) this.runs.delete(id);
    }
  }

  /** Stops listening to the mesh. */
  close(): void {
    for (const detach of this.detachers.splice(0)) detach();
  }
}
