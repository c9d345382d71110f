/**
 * A CustomAgent as a step taker in distributed mode: a step job runs its `executeTask` (the envelope's output is what
 * `onPeerRequest` returned), so its steps go through the durable work queue like an AutoAgent's: a node that stops or
 * dies mid-step hands the step to another node, and the orchestrator keeps a copy of the result. The handler's
 * signal aborts when the workflow cancels the step or when this node's mesh stops in cancel mode.
 */
import type { CustomAgent } from '../../agent/custom-agent.js';
import type { Envelope } from '../../agent/envelope.js';
import type { TaskInput } from '../../agent/pipeline.js';
import { anyAbort } from '../../core/abort.js';
import type { StepAgent } from './step-worker.js';

export function customStepAgent(agent: CustomAgent, stopSignal: AbortSignal): StepAgent {
  return {
    role: agent.role,
    async executeStep(input: TaskInput): Promise<Envelope> {
      const joined = anyAbort(input.signal ? [input.signal, stopSignal] : [stopSignal]);
      try {
        return await agent.executeTask({
          task: input.task,
          context: input.context ?? {},
          signal: joined.signal,
          ...(input.stepId !== undefined ? { stepId: input.stepId } : {}),
        });
      } finally {
        joined.release();
      }
    },
  };
}
