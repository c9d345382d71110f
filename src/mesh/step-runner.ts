/**
 * The step-runner seam: how the workflow engine has one step run, wherever it runs. Everything that crosses it is
 * JSON data (a call in, progress events and an envelope out), so a runner may hand the step to another process or
 * machine; the engine never sees an agent, a closure or a schema object. The in-process runner
 * (`in-process-runner.ts`) is one implementation.
 */
import { type Envelope, ZERO_TOKENS } from '../agent/envelope.js';
import { newResultId } from '../agent/task-run.js';
import type { LlmCallEvent } from '../llm/call-events.js';

/** A step's output schema: as JSON Schema (what any runner can check), and a reference its owner can resolve. */
export interface StepSchema {
  /** Names the exact schema the step was given (e.g. a zod object registered by the in-process runner). */
  ref: string;
  jsonSchema: Record<string, unknown>;
}

/** The workflow budget a step runs under: what it may spend, shared with the other steps of the same run. */
export interface StepBudget {
  /** Names the run's budget: steps with the same key share one budget. */
  key: string;
  /** Says which budget this is in messages, e.g. `the budget of workflow "x" (budgetUsd)`. */
  label: string;
  limitUsd: number;
  /** What the run's steps that ended before this call spent. */
  spentUsd: number;
}

/** One step to run: JSON data only. */
export interface StepCall {
  workflowId: string;
  stepId: string;
  /** The role of the agent that runs it. */
  role: string;
  task: string;
  /**
   * The context the step's code sees: its own context, each dependency's envelope under the dependency's id and
   * under `previousStepResults`, and `workflowId` / `stepId`.
   */
  context: Record<string, unknown>;
  /** Context keys that hold dependency envelopes. */
  dependencies: string[];
  outputSchema: StepSchema | null;
  budget: StepBudget | null;
}

/** What a running step reports, as it happens (progress displays, budget bookkeeping). */
export type StepProgress =
  /** A repair call is about to be made for this failure. */
  | { type: 'repaired'; repair: number; errorCategory: string; error: string }
  /** A model call is retried or fails over to the next provider. */
  | { type: 'llm'; event: LlmCallEvent }
  /** The workflow budget refused a model call: the engine starts no more steps. */
  | { type: 'budget-refused'; message: string };

export interface StepRunner {
  /**
   * Runs the step and resolves with its envelope (a failure is an envelope, not a rejection). `signal` cancels it:
   * the envelope then ends as cancelled. Rejects only when the step could not be run at all (a programmer error,
   * an unknown role or schema reference).
   */
  run(call: StepCall, signal: AbortSignal, onProgress: (event: StepProgress) => void): Promise<Envelope>;
}

/**
 * The envelope of a step no agent ran to its end (skipped by the engine, or failed before reaching its agent):
 * nothing spent, nothing produced. The role stands for the agent, which may live in another process.
 */
export function unranStepEnvelope(
  step: { role: string; stepId: string },
  status: 'failure' | 'skipped',
  error: string,
  category: Envelope['errorCategory'],
): Envelope {
  return {
    status,
    output: null,
    code: null,
    repairs: 0,
    executionTime: 0,
    tokens: { ...ZERO_TOKENS },
    costUsd: 0,
    resultId: newResultId(),
    functionId: null,
    error,
    errorCategory: category,
    attempts: [],
    cached: false,
    logs: [],
    agentId: step.role,
    role: step.role,
    provider: null,
    model: null,
    stepId: step.stepId,
  };
}
