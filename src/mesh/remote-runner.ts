/**
 * The remote {@link StepRunner}: a step whose agent is not in this process is a mesh `call` to that agent by name.
 * An AutoAgent served on the mesh takes `{ task, context, id?, outputSchema?, budgetUsd? }` and answers with its
 * envelope. Any other agent (a function agent, an agent of another language) takes the step's task and context as
 * one flat object (`{ task, ...context }`: its own context keys, each dependency's envelope under the dependency's
 * id, `previousStepResults`, `workflowId`, `stepId`; a schema that does not name a key ignores it) and answers with
 * its own output, which becomes the step's `output`. A call that fails on the mesh (not found, timeout, the serving
 * process died, …) becomes a failed envelope with category `mesh` naming the MeshError code, so the workflow goes
 * on exactly as for a step that failed locally.
 */
import { type Envelope, ZERO_TOKENS } from '../agent/envelope.js';
import { newResultId } from '../agent/task-run.js';
import { type StepCall, type StepProgress, type StepRunner, unranStepEnvelope } from './step-runner.js';

/** What the runner needs from the mesh: a call by name that rejects with an error carrying a `code`. */
export type MeshInvoke = (
  name: string,
  input: Record<string, unknown>,
  options: { signal: AbortSignal; timeoutMs: number },
) => Promise<unknown>;

/** The input an AutoAgent served on the mesh takes (see `served-auto-agent.ts`). */
export interface RemoteTaskInput extends Record<string, unknown> {
  task: string;
  context: Record<string, unknown>;
  /** Becomes the result id on the serving node. */
  id?: string;
  /** JSON Schema the result must match (the step's zod schema, as data). */
  outputSchema?: Record<string, unknown>;
  /** What is left of the workflow's budget when the step starts. */
  budgetUsd?: number;
  /** For the serving node's records and events. */
  workflowId?: string;
  stepId?: string;
}

/** Whether the agent of that name is an automesh AutoAgent (answers with an envelope); rejects as a call would. */
export type IsAutoAgent = (name: string) => Promise<boolean>;

export class RemoteStepRunner implements StepRunner {
  constructor(
    private readonly invoke: MeshInvoke,
    /** How long a remote step may take before the call gives up (the serving node's own limits apply too). */
    private readonly timeoutMs: number,
    private readonly isAutoAgent: IsAutoAgent,
  ) {}

  async run(call: StepCall, signal: AbortSignal, _onProgress: (event: StepProgress) => void): Promise<Envelope> {
    let auto: boolean;
    try {
      auto = await this.isAutoAgent(call.role);
    } catch (err) {
      return failedStep(call, 'mesh', meshFailure(call, err));
    }
    return auto ? this.runAutoAgent(call, signal) : this.runOtherAgent(call, signal);
  }

  /** A function agent or an agent of another language: its answer is the step's output. */
  private async runOtherAgent(call: StepCall, signal: AbortSignal): Promise<Envelope> {
    const started = performance.now();
    let answer: unknown;
    try {
      answer = await this.invoke(
        call.role,
        { task: call.task, ...call.context },
        { signal, timeoutMs: this.timeoutMs },
      );
    } catch (err) {
      if (signal.aborted) return failedStep(call, 'cancelled', `Step "${call.stepId}" was cancelled.`);
      return failedStep(call, 'mesh', meshFailure(call, err));
    }
    return {
      status: 'success',
      output: answer ?? null,
      code: null,
      repairs: 0,
      executionTime: (performance.now() - started) / 1000,
      tokens: { ...ZERO_TOKENS },
      costUsd: 0,
      resultId: newResultId(),
      functionId: null,
      error: null,
      errorCategory: null,
      attempts: [],
      cached: false,
      logs: [],
      agentId: call.role,
      role: call.role,
      provider: null,
      model: null,
      stepId: call.stepId,
    };
  }

  private async runAutoAgent(call: StepCall, signal: AbortSignal): Promise<Envelope> {
    const input: RemoteTaskInput = {
      task: call.task,
      context: call.context,
      workflowId: call.workflowId,
      stepId: call.stepId,
      ...(call.outputSchema ? { outputSchema: call.outputSchema.jsonSchema } : {}),
      ...(call.budget ? { budgetUsd: Math.max(0, call.budget.limitUsd - call.budget.spentUsd) } : {}),
    };
    let answer: unknown;
    try {
      answer = await this.invoke(call.role, input, { signal, timeoutMs: this.timeoutMs });
    } catch (err) {
      if (signal.aborted) return failedStep(call, 'cancelled', `Step "${call.stepId}" was cancelled.`);
      return failedStep(call, 'mesh', meshFailure(call, err));
    }
    const problem = envelopeProblem(answer);
    if (problem) {
      return failedStep(
        call,
        'mesh',
        `Agent "${call.role}" answered step "${call.stepId}" with something that is not a result envelope (${problem}); `
          + 'an AutoAgent answers a step with its envelope; is another program serving this name?',
      );
    }
    return { ...(answer as Envelope), stepId: call.stepId };
  }
}

function meshFailure(call: StepCall, err: unknown): string {
  const code = typeof (err as { code?: unknown })?.code === 'string' ? (err as { code: string }).code : 'error';
  const message = err instanceof Error ? err.message : String(err);
  return `Step "${call.stepId}" could not run on agent "${call.role}" over the mesh (${code}): ${message}`;
}

/** Why a value is not an envelope, or null when it has an envelope's fields with their types. */
export function envelopeProblem(value: unknown): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not an object';
  const v = value as Record<string, unknown>;
  if (!['success', 'failure', 'skipped'].includes(v.status as string)) return `status is ${JSON.stringify(v.status)}`;
  for (const key of ['resultId', 'role', 'agentId'] as const) {
    if (typeof v[key] !== 'string') return `${key} is not a string`;
  }
  if (!Array.isArray(v.attempts)) return 'attempts is not an array';
  if (typeof v.tokens !== 'object' || v.tokens === null) return 'tokens is missing';
  return null;
}

function failedStep(call: StepCall, category: 'mesh' | 'cancelled', error: string): Envelope {
  return unranStepEnvelope(call, 'failure', error, category);
}
