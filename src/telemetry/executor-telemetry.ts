/** The sandbox execution's span (`automesh.execute`) and its latency metric, as executor middleware. */
import type { Span } from '@opentelemetry/api';
import type { ExecutorMiddleware } from '../sandbox/executor-middleware.js';
import type { ExecutionResult } from '../sandbox/types.js';
import { failSpan, inSpan, tracingOff } from './spans.js';
import type { Telemetry } from './telemetry.js';

function describeResult(span: Span, result: ExecutionResult): void {
  span.setAttributes({
    'automesh.execution.status': result.status,
    'automesh.execution.duration_ms': result.durationMs,
    'automesh.execution.cpu_ms': result.cpuMs,
    'automesh.execution.tool_calls': result.toolCalls,
  });
  if (result.errorCategory) {
    span.setAttribute('automesh.error_category', result.errorCategory);
    failSpan(span, `${result.errorCategory}: ${result.error ?? ''}`);
  }
}

/** Runs the code, counting the run's outcome and latency in the metrics. */
async function countRun(telemetry: Telemetry, doExecute: () => Promise<ExecutionResult>): Promise<ExecutionResult> {
  const started = performance.now();
  const result = await doExecute();
  telemetry.metrics.executed(result.errorCategory ?? 'success', (performance.now() - started) / 1000);
  return result;
}

export function telemetryExecutorMiddleware(telemetry: Telemetry): ExecutorMiddleware {
  return {
    wrapExecute: ({ request, doExecute }) => {
      // No SDK: a span would record nothing, so the run is only counted.
      if (tracingOff()) return countRun(telemetry, doExecute);
      // The span is active while the code runs: a tool's own calls (a mesh call, a peer) are its children.
      return inSpan(
        'automesh.execute',
        {},
        (span) => {
          if (span.isRecording()) {
            const code = telemetry.content(request.code);
            if (code !== null) span.setAttribute('automesh.code', code);
          }
          return countRun(telemetry, doExecute);
        },
        describeResult,
      );
    },
  };
}
