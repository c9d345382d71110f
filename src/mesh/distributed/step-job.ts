/**
 * What travels between an orchestrator and the nodes in distributed mode, and where it lives:
 *
 * - a **step job** on the work queue `automesh-steps`, topic = the agent's role: the step call as data, with the
 *   dispatch id that names this dispatch everywhere;
 * - the **result record** in KV bucket `automesh-steps` under `r.<dispatchId>`: written by the node before it
 *   acknowledges the job, so a result is never lost between "done" and "acknowledged";
 * - the **dispatch record** under `d.<workflow>.<step>`: which dispatch the workflow's step is waiting for, so an
 *   orchestrator that runs the workflow again adopts a step still in flight instead of running it again;
 * - **notices** on core NATS subjects `automesh.step.<dispatchId>.{progress,done,cancel}`: the fast path (progress,
 *   the result as soon as it exists, cancellation). They may be lost (a broker restart); the KV record is not.
 */
import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { currentTraceHeaders } from '../../telemetry/mesh-spans.js';
import type { StepCall } from '../step-runner.js';

export const STEPS_QUEUE = 'automesh-steps';
export const STEPS_BUCKET = 'automesh-steps';

/** A KV key token for any text: KV keys allow only `[-/_=.A-Za-z0-9]`, and `.` separates tokens. */
export function keyToken(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url') || '_';
}

export const dispatchKey = (workflowId: string, stepId: string): string =>
  `d.${keyToken(workflowId)}.${keyToken(stepId)}`;
export const resultKey = (dispatchId: string): string => `r.${dispatchId}`;

export const noticeSubject = (dispatchId: string, kind: 'progress' | 'done' | 'cancel'): string =>
  `automesh.step.${dispatchId}.${kind}`;
/** What a node subscribes to for every cancellation. */
export const CANCEL_SUBJECTS = 'automesh.step.*.cancel';

/** A new dispatch id: a valid subject token, KV key token and dedupe id. */
export function newDispatchId(): string {
  return randomBytes(12).toString('hex');
}

const jsonRecord = z.record(z.string(), z.unknown());

export const stepJobSchema = z.object({
  v: z.literal(1),
  dispatchId: z.string().regex(/^[0-9a-f]{24}$/),
  workflowId: z.string(),
  stepId: z.string(),
  role: z.string(),
  task: z.string(),
  context: jsonRecord,
  dependencies: z.array(z.string()),
  /** The step's output schema as JSON Schema, or null. */
  outputSchema: jsonRecord.nullable(),
  /** What is left of the workflow's budget when the step was dispatched; null for none. */
  budgetUsd: z.number().nonnegative().nullable(),
  /** The orchestrator's step span as W3C trace headers (`traceparent`, `tracestate`): the step continues its trace. */
  trace: z.record(z.string(), z.string()).optional(),
});
export type StepJob = z.infer<typeof stepJobSchema>;

export const resultRecordSchema = z.object({
  v: z.literal(1),
  dispatchId: z.string(),
  /** The node that ran the step (NODE_NAME) and its mesh instance. */
  node: z.string(),
  instanceId: z.string(),
  envelope: jsonRecord,
});
export type ResultRecord = z.infer<typeof resultRecordSchema>;

export const dispatchRecordSchema = z.object({
  v: z.literal(1),
  dispatchId: z.string(),
  /** Identifies the step's input (see {@link inputKey}): a dispatch is adopted only for the very same input. */
  inputKey: z.string(),
  dispatchedAt: z.string(),
  /** Set once an orchestrator took the result: a later run of the step is a new dispatch, not an adoption. */
  consumed: z.boolean(),
});
export type DispatchRecord = z.infer<typeof dispatchRecordSchema>;

/** The step job for one dispatch of a call. */
export function stepJob(call: StepCall, dispatchId: string): StepJob {
  return {
    v: 1,
    dispatchId,
    workflowId: call.workflowId,
    stepId: call.stepId,
    role: call.role,
    task: call.task,
    context: call.context,
    dependencies: call.dependencies,
    outputSchema: call.outputSchema?.jsonSchema ?? null,
    budgetUsd: call.budget ? Math.max(0, call.budget.limitUsd - call.budget.spentUsd) : null,
    ...tracing(),
  };
}

/** The trace of the step being dispatched, when one is active. */
function tracing(): { trace?: Record<string, string> } {
  const trace = currentTraceHeaders();
  return Object.keys(trace).length > 0 ? { trace } : {};
}

/**
 * What makes two calls of a step the same work: role, task, the step's own context, output schema, and the result
 * ids of the dependency envelopes it was given (not the envelopes themselves: recovered ones come back reshaped).
 */
export function inputKey(call: StepCall): string {
  const deps = new Set([...call.dependencies, 'previousStepResults', 'workflowId', 'stepId']);
  const own = Object.fromEntries(Object.entries(call.context).filter(([key]) => !deps.has(key)));
  const depIds = call.dependencies.map((dep) => (call.context[dep] as { resultId?: unknown } | undefined)?.resultId);
  const text = JSON.stringify([call.role, call.task, own, call.outputSchema?.jsonSchema ?? null, depIds]);
  return createHash('sha256').update(text).digest('base64url');
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export const encodeJson = (value: unknown): Uint8Array => encoder.encode(JSON.stringify(value));

/** Parses bytes with a schema; a message that says what is wrong, or the value. */
export function decodeJson<T>(schema: z.ZodType<T>, data: Uint8Array, what: string): T {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(data));
  } catch (err) {
    throw new Error(`${what} is not JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new Error(`${what} is malformed: ${z.prettifyError(parsed.error).replace(/\n/g, '; ')}`);
  return parsed.data;
}
