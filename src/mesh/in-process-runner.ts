/**
 * The in-process {@link StepRunner}: runs a step with this process's agent of the step's role
 * (`AutoAgent.executeStep`). The parts a step call cannot carry as data live here: the zod output schemas the
 * steps were given (the call names them by reference) and the live budget the steps of one run share.
 */

import type { z } from 'zod';
import type { AutoAgent } from '../agent/auto-agent.js';
import { Budget } from '../agent/budget.js';
import type { Envelope } from '../agent/envelope.js';
import { toJsonSchema } from '../codegen/json-schema.js';
import type { StepBudget, StepCall, StepProgress, StepRunner } from './step-runner.js';
import type { PlannedStep, ResolvedStep } from './workflow-spec.js';

export class InProcessStepRunner implements StepRunner {
  private readonly schemas = new Map<string, z.ZodType>();
  /** Numbers the plans, so two runs of one workflow id (one waiting for the other) never share a reference. */
  private plans = 0;
  /** The budgets of runs with a step in flight, by key, with how many steps use each. */
  private readonly budgets = new Map<string, { budget: Budget; users: number }>();

  constructor(private readonly agents: ReadonlyMap<string, AutoAgent>) {}

  /**
   * The engine's plan of resolved steps: their output schemas are kept here and named by reference until
   * `release()` (call it when the run ends).
   */
  plan(workflowId: string, resolved: readonly ResolvedStep[]): { steps: PlannedStep[]; release: () => void } {
    const refs: string[] = [];
    const planNumber = ++this.plans;
    const steps = resolved.map((step): PlannedStep => {
      let outputSchema: PlannedStep['outputSchema'] = null;
      if (step.outputSchema) {
        const ref = `${workflowId}/${step.id}#${planNumber}`;
        this.schemas.set(ref, step.outputSchema);
        refs.push(ref);
        outputSchema = { ref, jsonSchema: toJsonSchema(step.outputSchema) };
      }
      return {
        index: step.index,
        id: step.id,
        role: step.role,
        task: step.task,
        dependsOn: step.dependsOn,
        context: step.context,
        outputSchema,
        specHash: step.specHash,
      };
    });
    return {
      steps,
      release: () => {
        for (const ref of refs) this.schemas.delete(ref);
      },
    };
  }

  async run(call: StepCall, signal: AbortSignal, onProgress: (event: StepProgress) => void): Promise<Envelope> {
    const agent = this.agents.get(call.role);
    if (!agent) throw new Error(`No agent with role "${call.role}" in this process to run step "${call.stepId}".`);
    let outputSchema: z.ZodType | undefined;
    if (call.outputSchema) {
      outputSchema = this.schemas.get(call.outputSchema.ref);
      if (!outputSchema) {
        throw new Error(
          `Step "${call.stepId}" names output schema "${call.outputSchema.ref}", which this process does not hold.`,
        );
      }
    }
    const budget = call.budget ? this.share(call.budget) : null;
    try {
      const envelope = await agent.executeStep({
        task: call.task,
        context: call.context,
        outputSchema,
        signal,
        stepId: call.stepId,
        dependencies: call.dependencies,
        deferLog: true,
        ...(budget ? { workflowBudget: budget } : {}),
        onRepair: (info) => onProgress({ type: 'repaired', ...info }),
        onLlmEvent: (event) => onProgress({ type: 'llm', event }),
      });
      if (budget?.refusal) onProgress({ type: 'budget-refused', message: budget.refusal });
      return envelope;
    } finally {
      if (call.budget) this.unshare(call.budget.key);
    }
  }

  /**
   * The live budget of the call's run: steps running at once charge the same one, so together they cannot spend
   * more than it holds. It starts from what the engine says the run's ended steps spent.
   */
  private share(spec: StepBudget): Budget {
    let shared = this.budgets.get(spec.key);
    if (!shared) {
      const budget = new Budget(spec.limitUsd, spec.label);
      budget.charge(spec.spentUsd);
      shared = { budget, users: 0 };
      this.budgets.set(spec.key, shared);
    }
    shared.users++;
    return shared.budget;
  }

  private unshare(key: string): void {
    const shared = this.budgets.get(key);
    if (shared && --shared.users === 0) this.budgets.delete(key);
  }
}
