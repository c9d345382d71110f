/**
 * The task's span (GenAI's agent span: `invoke_agent {role}`) and its attempts' spans, and the task metrics. With no
 * OpenTelemetry SDK registered a task only counts its metrics: no span, no scope, no async frame around the work.
 */
import { type Span, trace } from '@opentelemetry/api';
import type { Attempt, Envelope } from '../agent/envelope.js';
import { activeContext, withContext } from './scope.js';
import { failSpan, inSpan, recordThrow, startSpan, tracingOff } from './spans.js';
import type { Telemetry } from './telemetry.js';

export interface TaskDescription {
  role: string;
  task: string;
  stepId?: string;
}

/** The envelope's outcome on a task's or a step's span. */
export function describeEnvelope(span: Span, envelope: Envelope): void {
  span.setAttributes({
    'automesh.result_id': envelope.resultId,
    'automesh.status': envelope.status,
    'automesh.repairs': envelope.repairs,
    'automesh.cached': envelope.cached,
    'automesh.attempts': envelope.attempts.length,
    'gen_ai.usage.input_tokens': envelope.tokens.input,
    'gen_ai.usage.output_tokens': envelope.tokens.output,
  });
  if (envelope.costUsd !== null) span.setAttribute('automesh.cost_usd', envelope.costUsd);
  if (envelope.functionId) span.setAttribute('automesh.function_id', envelope.functionId);
  if (envelope.provider) span.setAttribute('automesh.provider', envelope.provider);
  if (envelope.model) span.setAttribute('gen_ai.request.model', envelope.model);
  if (envelope.errorCategory) {
    span.setAttribute('automesh.error_category', envelope.errorCategory);
    failSpan(span, `${envelope.errorCategory}: ${envelope.error ?? ''}`);
  }
}

/** Runs a task (`run`) in its span and scope, and counts its envelope in the mesh's metrics. */
export function observeTask(
  what: TaskDescription,
  telemetry: Telemetry | undefined,
  run: () => Promise<Envelope>,
): Promise<Envelope> {
  if (!tracingOff()) return runInTaskSpan(what, telemetry, run);
  const started = performance.now();
  let pending: Promise<Envelope>;
  try {
    pending = run();
  } catch (err) {
    // As the traced path (an async function) gives it: a rejection, never a throw.
    return Promise.reject(err);
  }
  return pending.then((envelope) => {
    telemetry?.metrics.taskEnded(what.role, envelope, (performance.now() - started) / 1000);
    return envelope;
  });
}

async function runInTaskSpan(
  what: TaskDescription,
  telemetry: Telemetry | undefined,
  run: () => Promise<Envelope>,
): Promise<Envelope> {
  const parent = activeContext();
  const span = startSpan(`invoke_agent ${what.role}`, { parent });
  const recording = span.isRecording();
  if (recording) {
    span.setAttributes({
      'gen_ai.operation.name': 'invoke_agent',
      'gen_ai.agent.name': what.role,
      ...(what.stepId !== undefined ? { 'automesh.step_id': what.stepId } : {}),
    });
    const text = telemetry?.content(what.task) ?? null;
    if (text !== null) span.setAttribute('automesh.task', text);
  }
  const started = performance.now();
  let envelope: Envelope;
  try {
    envelope = recording ? await withContext(trace.setSpan(parent, span), run) : await run();
  } catch (err) {
    recordThrow(span, err);
    span.end();
    throw err;
  }
  telemetry?.metrics.taskEnded(what.role, envelope, (performance.now() - started) / 1000);
  if (recording) describeEnvelope(span, envelope);
  span.end();
  return envelope;
}

function describeAttempt(span: Span, attempt: Attempt | undefined): void {
  if (!attempt) return;
  if (attempt.provider) span.setAttribute('automesh.provider', attempt.provider);
  if (attempt.model) span.setAttribute('gen_ai.request.model', attempt.model);
  if (attempt.errorCategory) {
    span.setAttribute('automesh.error_category', attempt.errorCategory);
    failSpan(span, `${attempt.errorCategory}: ${attempt.error ?? ''}`);
  }
}

/**
 * One attempt of a task, in its span: `generate` (the first code), `repair` (code after a failure) or `registry`
 * (registered code, no model call). `attempts` is the task's list: the attempt it ends with describes the span.
 */
export function traceAttempt<T>(
  telemetry: Telemetry | undefined,
  kind: 'generate' | 'repair' | 'registry',
  number: number,
  attempts: readonly Attempt[],
  fn: () => Promise<T>,
): Promise<T> {
  if (!telemetry || tracingOff()) return fn();
  return inSpan(
    'automesh.attempt',
    { attributes: { 'automesh.attempt.kind': kind, 'automesh.attempt.number': number } },
    fn,
    (span) => describeAttempt(span, attempts.at(-1)),
  );
}
