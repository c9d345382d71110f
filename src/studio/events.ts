/**
 * Live step states as server-sent events. The stream polls the store (one `load` of one workflow every `pollMs`)
 * and sends the graph whenever it changed. Polling, not mesh events, because the store is the one place every
 * runner writes to: a workflow run by another process, another machine's node (KV buckets) or an earlier run of
 * this one shows the same way, and the SQLite store has no change feed across processes. The cost is one small
 * read per open stream per interval; the stream ends once the workflow ended.
 */
import type { ServerResponse } from 'node:http';
import type { WorkflowGraph } from './api-types.js';

const HEARTBEAT_MS = 15_000;

export interface GraphStream {
  /** Ends the stream (the handler closing, or the client gone). */
  stop(): void;
}

function ended(graph: WorkflowGraph | null): boolean {
  return graph !== null && graph.status !== 'running' && graph.status !== 'unknown';
}

function send(res: ServerResponse, event: string, data: unknown): void {
  res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

/**
 * Streams `load()`'s graph on `res`: `graph` when it changed, `error` when a read failed (the stream goes on),
 * `end` once the workflow finished, failed or was cancelled. `redact` is applied to everything sent.
 */
export function streamGraph(
  res: ServerResponse,
  load: () => Promise<WorkflowGraph | null>,
  options: { pollMs: number; redact: (value: unknown) => unknown; onStop: () => void },
): GraphStream {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  res.write(': studio\n\n');
  let last = '';
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  const heartbeat = setInterval(() => res.write(': ping\n\n'), HEARTBEAT_MS);
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    if (timer) clearTimeout(timer);
    clearInterval(heartbeat);
    res.end();
    options.onStop();
  };
  const poll = async (): Promise<void> => {
    try {
      const graph = await load();
      const text = JSON.stringify(options.redact(graph));
      if (stopped) return;
      if (text !== last) {
        last = text;
        send(res, 'graph', JSON.parse(text));
      }
      if (ended(graph)) {
        send(res, 'end', { status: graph?.status });
        stop();
        return;
      }
    } catch (error) {
      if (stopped) return;
      send(res, 'error', options.redact({ error: (error as Error).message }));
    }
    if (!stopped) timer = setTimeout(() => void poll(), options.pollMs);
  };
  res.on('close', stop);
  void poll();
  return { stop };
}
