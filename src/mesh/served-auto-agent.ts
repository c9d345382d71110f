/**
 * An AutoAgent as the mesh sees it: a responder named by its role, taking `{ task, context?, id? }` (plus what a
 * remote workflow step brings: its output schema as JSON Schema, what is left of the workflow budget, the step's
 * ids) and answering with the task's envelope. Its capabilities are the contract's tags, so
 * `mesh.catalog({ tags: ['math'] })` finds it like any other agent, from any process or language.
 */
import { z } from 'zod';
import type { AutoAgent } from '../agent/auto-agent.js';
import type { Envelope } from '../agent/envelope.js';
import { sessionOfRequest, withSession } from '../agent/session.js';
import { type AgentContext, type AnyHandler, FunctionAgent } from '../transport/oam/function-agent.js';

export const autoAgentInput = z.object({
  task: z.string().min(1, 'task must be a non-empty string: what the agent should do'),
  context: z.record(z.string(), z.unknown()).optional(),
  id: z.string().optional(),
  outputSchema: z.record(z.string(), z.unknown()).optional(),
  budgetUsd: z.number().nonnegative().optional(),
  workflowId: z.string().optional(),
  stepId: z.string().optional(),
});

export type AutoAgentInput = z.infer<typeof autoAgentInput>;

const tokens = z.object({ input: z.number(), output: z.number(), total: z.number() });

/** The envelope's main fields, for the contract (DESIGN.md §3); other fields pass through. */
export const envelopeOutput = z.looseObject({
  status: z.enum(['success', 'failure', 'skipped']),
  output: z.unknown(),
  code: z.string().nullable(),
  repairs: z.number(),
  executionTime: z.number(),
  tokens,
  costUsd: z.number().nullable(),
  resultId: z.string(),
  functionId: z.string().nullable(),
  error: z.string().nullable(),
  errorCategory: z.string().nullable(),
  attempts: z.array(z.unknown()),
  cached: z.boolean(),
  logs: z.array(z.string()),
  agentId: z.string(),
  role: z.string(),
  provider: z.string().nullable(),
  model: z.string().nullable(),
});

/** What the contract says about an AutoAgent. */
export function autoAgentSpec(agent: AutoAgent): {
  name: string;
  description: string;
  tags: string[];
  input: typeof autoAgentInput;
  output: typeof envelopeOutput;
} {
  const description =
    agent.definition.description?.trim() || `AutoAgent "${agent.role}": writes and runs code for a task.`;
  return {
    name: agent.role,
    description,
    tags: [...agent.capabilities],
    input: autoAgentInput,
    output: envelopeOutput,
  };
}

/**
 * Runs one mesh request on the agent: a workflow step (it has a `stepId`) as a step, anything else as a task.
 * A JSON Schema for the output becomes the zod schema the pipeline checks.
 */
export function runServedTask(agent: AutoAgent, input: AutoAgentInput, signal?: AbortSignal): Promise<Envelope> {
  const outputSchema = input.outputSchema ? z.fromJSONSchema(input.outputSchema as never) : undefined;
  const common = {
    task: input.task,
    context: input.context ?? {},
    ...(outputSchema ? { outputSchema } : {}),
    ...(input.budgetUsd !== undefined ? { budgetUsd: input.budgetUsd } : {}),
    ...(signal ? { signal } : {}),
  };
  if (input.stepId !== undefined) return agent.executeStep({ ...common, stepId: input.stepId });
  return agent.executeTask({ ...common, ...(input.id !== undefined ? { id: input.id } : {}) });
}

/** The agent as served on the mesh: a responder whose handler runs the request as a task (or a workflow step). */
export function servedAutoAgent(agent: AutoAgent): FunctionAgent {
  // Within the request's session, so peers the agent's tools ask while the task runs carry it on.
  const handler = (input: AutoAgentInput, context: AgentContext): Promise<Envelope> =>
    withSession(sessionOfRequest(context.headers, context.requestId, agent.role), () =>
      runServedTask(agent, input, context.signal),
    );
  return new FunctionAgent(autoAgentSpec(agent), handler as AnyHandler, 'auto');
}
