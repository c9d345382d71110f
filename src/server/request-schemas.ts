/**
 * What the HTTP service takes, as zod schemas: a task for an agent and a workflow (steps as `mesh.workflow` takes
 * them, an output schema as JSON Schema). A body that does not fit is refused with every issue, each at its path,
 * and an example of what to send.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { WorkflowStep } from '../mesh/workflow-spec.js';
import { HttpProblem } from './responses.js';

const context = z.record(z.string(), z.unknown(), { error: 'context must be a JSON object of named values' });
const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const idText = (what: string) =>
  z
    .string()
    .regex(SAFE_ID, `${what} must be letters, digits, ".", "-" or "_" (at most 128), starting with a letter or digit`);

export const taskRequest = z.strictObject({
  task: z.string({ error: 'task must be a string' }).trim().min(1, 'task must say what the agent should do'),
  context: context.optional(),
  /** Names the stored result; a second task with the id of one still running is refused. */
  id: idText('id').optional(),
  /** The peer session the task runs in: it travels with every peer request made while it runs (`ctx.session`). */
  session: z
    .strictObject({
      id: z.string().trim().min(1, 'session.id must not be empty').optional(),
      metadata: context.optional(),
    })
    .optional(),
});

export const TASK_EXAMPLE = { task: 'Calculate the factorial of 10', context: { n: 10 } };

const dependencies = z.array(z.union([z.string(), z.int().nonnegative()]), {
  error: 'dependsOn must be an array of step ids or indices',
});

const step = z.strictObject({
  id: idText('a step id').optional(),
  agent: z.string({ error: 'agent must be a string: a role or a capability' }).min(1, 'agent must not be empty'),
  task: z.string({ error: 'task must be a string' }).trim().min(1, 'task must say what the step should do'),
  dependsOn: dependencies.optional(),
  depends_on: dependencies.optional(),
  context: context.optional(),
  /** A JSON Schema the step's result must match. */
  outputSchema: z.record(z.string(), z.unknown(), { error: 'outputSchema must be a JSON Schema object' }).optional(),
});

export const workflowRequest = z.strictObject({
  id: idText('id').optional(),
  steps: z.array(step, { error: 'steps must be an array of steps' }).min(1, 'steps must have at least one step'),
  /** Run every step again instead of resuming what an earlier run of the id finished. */
  fresh: z.boolean().optional(),
  budgetUsd: z.number().nonnegative().optional(),
  /** Answer when the workflow has ended (with its state), not at once. */
  wait: z.boolean().optional(),
});

export const WORKFLOW_EXAMPLE = {
  id: 'calc-1',
  steps: [
    { id: 'fact', agent: 'calculator', task: 'Calculate the factorial of 10' },
    { id: 'digits', agent: 'calculator', task: 'Sum the digits of the factorial', dependsOn: ['fact'] },
  ],
};

/** An issue's path as people write it: `steps[0].task`. */
function pathText(path: ReadonlyArray<PropertyKey>): string {
  return path
    .map((part, i) => (typeof part === 'number' ? `[${part}]` : `${i === 0 ? '' : '.'}${String(part)}`))
    .join('');
}

/** The body, checked against `schema`; a 400 listing every issue (at its path) and an example when it does not fit. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown, example: unknown): z.infer<S> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => ({
    path: pathText(issue.path),
    message:
      issue.code === 'unrecognized_keys'
        ? `unknown field(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`
        : issue.message,
  }));
  const lines = issues.map((issue) => (issue.path ? `${issue.path}: ${issue.message}` : issue.message));
  throw new HttpProblem(400, 'invalid_request', `The request body does not fit: ${lines.join('; ')}.`, {
    issues,
    example,
  });
}

/** The steps as `mesh.workflow` takes them: an output schema in JSON Schema becomes the zod schema it checks. */
export function workflowSteps(steps: z.infer<typeof workflowRequest>['steps']): WorkflowStep[] {
  return steps.map((s, index) => {
    const { outputSchema, ...rest } = s;
    if (outputSchema === undefined) return rest;
    try {
      return { ...rest, outputSchema: z.fromJSONSchema(outputSchema as never) };
    } catch (err) {
      throw new HttpProblem(
        400,
        'invalid_request',
        `steps[${index}].outputSchema is not a JSON Schema zod can read: ${err instanceof Error ? err.message : String(err)}`,
        { example: { type: 'object', properties: { total: { type: 'number' } }, required: ['total'] } },
      );
    }
  });
}

/** An id for a workflow the request did not name. */
export function newWorkflowId(): string {
  return `wf-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}
