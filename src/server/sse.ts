/**
 * A run's progress as server-sent events: every event it had so far (after `Last-Event-ID` when the client
 * reconnects), then each new one as it happens, and the stream ends after the run's last event. A comment line
 * every `keepAliveMs` keeps proxies from closing a quiet stream.
 */
import { redactSecrets } from '../llm/redact.js';
import type { RunEvent, WorkflowRun } from './workflow-runs.js';

/** One event in the SSE wire format; the data is one line of JSON, cleaned of the secrets. */
export function sseFrame(event: RunEvent, secrets: readonly string[]): string {
  return `id: ${event.id}\nevent: ${event.type}\ndata: ${redactSecrets(JSON.stringify(event.data), secrets)}\n\n`;
}

export interface EventStreamOptions {
  /** Events up to this id were seen already (the `Last-Event-ID` header); 0 for all. */
  lastEventId: number;
  secrets: readonly string[];
  keepAliveMs: number;
  /** Ends the stream (the service is closing). */
  signal: AbortSignal;
}

/** The SSE response following `run`. */
export function eventStreamResponse(run: WorkflowRun, options: EventStreamOptions): Response {
  const encoder = new TextEncoder();
  let lastSent = options.lastEventId;
  let stop: () => void = () => undefined;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const send = (): void => {
        const fresh = run.eventsAfter(lastSent);
        for (const event of fresh) controller.enqueue(encoder.encode(sseFrame(event, options.secrets)));
        lastSent = fresh.at(-1)?.id ?? lastSent;
        if (run.ended) finish();
      };
      const keepAlive = setInterval(() => controller.enqueue(encoder.encode(': keep-alive\n\n')), options.keepAliveMs);
      const unfollow = run.follow(send);
      const onAbort = (): void => finish();
      options.signal.addEventListener('abort', onAbort, { once: true });
      let closed = false;
      stop = (): void => {
        if (closed) return;
        closed = true;
        clearInterval(keepAlive);
        unfollow();
        options.signal.removeEventListener('abort', onAbort);
      };
      const finish = (): void => {
        if (closed) return;
        stop();
        controller.close();
      };
      controller.enqueue(encoder.encode(`retry: 2000\n\n`));
      send();
      if (options.signal.aborted) finish();
    },
    cancel() {
      stop();
    },
  });
  return new Response(body, {
    status: 200,
    headers: {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
    },
  });
}
