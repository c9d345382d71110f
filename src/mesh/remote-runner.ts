/**
 * The remote {@link StepRunner}: a step whose agent is not in this process is a mesh `call` to that agent by name
 * (an AutoAgent served on the mesh takes `{ task, context, id?, outputSchema?, budgetUsd? }` and answers with its
 * envelope). Everything a step call holds is JSON already, so the only translation is of failures: a call that
 * fails on the mesh (not found, timeout, the serving process died, …) becomes a failed envelope with category
 * `mesh` naming the MeshError code, so the workflow goes on exactly as for a step that failed locally.
 */
import type { Envelope } from '../agent/envelope.js';
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

export class RemoteStepRunner implements StepRunner {
  constructor(
    private readonly invoke: MeshInvoke,
    /** How long a remote step may take before the call gives up (the serving node's own limits apply too). */
    private readonly timeoutMs: number,
  ) {}

  async run(call: StepCall, signal: AbortSignal, _onProgress: (event: StepProgress) => void): Promise<Envelope> {
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
          + 'a workflow step must name an AutoAgent or an agent that returns an envelope.',
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
