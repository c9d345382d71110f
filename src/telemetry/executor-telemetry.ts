/** The sandbox execution's span (`automesh.execute`) and its latency metric, as executor middleware. */
import type { Span } from '@opentelemetry/api';
import type { ExecutorMiddleware } from '../sandbox/executor-middleware.js';
import type { ExecutionResult } from '../sandbox/types.js';
import { failSpan, recordThrow, startSpan } from './spans.js';
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

export function telemetryExecutorMiddleware(telemetry: Telemetry): ExecutorMiddleware {
  return {
    wrapExecute: async ({ request, doExecute }) => {
      const span = startSpan('automesh.execute');
      if (span.isRecording()) {
        const code = telemetry.content(request.code);
        if (code !== null) span.setAttribute('automesh.code', code);
      }
      const started = performance.now();
      try {
        const result = await doExecute();
        telemetry.metrics.executed(result.errorCategory ?? 'success', (performance.now() - started) / 1000);
        if (span.isRecording()) describeResult(span, result);
        return result;
      } catch (err) {
        recordThrow(span, err);
        throw err;
      } finally {
        span.end();
      }
    },
  };
}
