/**
 * The transports of the workflow benchmark's HTTP floors: how cheap one model call over HTTP can be on this
 * machine, with the official SDK as the engine uses it, with the SDK on a leaner transport, and with no SDK at all.
 * They exist to measure the floor under any engine; the engine itself always uses the SDK's own fetch.
 */
import http from 'node:http';
import { quantile } from './stats.js';

/** How a floor's model calls are made. */
export type FloorTransport = 'sdk' | 'sdk-node-http' | 'node-http';

/** What each transport is, for the benchmark's report. */
export const FLOOR_TRANSPORTS: Record<FloorTransport, string> = {
  sdk: 'the openai SDK as the engine uses it (its own fetch)',
  'sdk-node-http': 'the openai SDK given a fetch on node:http with a keep-alive agent',
  'node-http': 'a bare node:http POST and JSON.parse of the reply, no SDK',
};

/** A keep-alive agent for one floor run; `destroy()` it afterwards. */
export function keepAliveAgent(): http.Agent {
  return new http.Agent({ keepAlive: true, maxSockets: 256 });
}

function post(
  agent: http.Agent,
  url: URL,
  headers: Record<string, string>,
  body: string | undefined,
  method = 'POST',
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        agent,
        hostname: url.hostname,
        port: url.port,
        path: `${url.pathname}${url.search}`,
        method,
        headers,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }),
        );
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

/**
 * A `fetch` for the SDK's `fetch` option on node:http: enough of fetch for non-streaming JSON calls (string
 * bodies, whole replies), which is all the floor makes.
 */
export function nodeHttpFetch(agent: http.Agent): typeof fetch {
  return async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (init?.body !== undefined && init.body !== null && typeof init.body !== 'string') {
      throw new TypeError('bench nodeHttpFetch: only string bodies are supported');
    }
    const headers = Object.fromEntries(new Headers(init?.headers).entries());
    const reply = await post(agent, url, headers, init?.body ?? undefined, init?.method ?? 'GET');
    const replyHeaders = new Headers();
    for (const [name, value] of Object.entries(reply.headers)) {
      if (value !== undefined) replyHeaders.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    return new Response(reply.body, { status: reply.status, headers: replyHeaders });
  };
}

/** One Chat Completions call with no SDK: POST, parse, return the reply text. */
export async function bareChatCompletion(agent: http.Agent, baseUrl: string, body: unknown): Promise<string> {
  const reply = await post(
    agent,
    new URL(`${baseUrl}/v1/chat/completions`),
    {
      'content-type': 'application/json',
      authorization: 'Bearer bench',
    },
    JSON.stringify(body),
  );
  if (reply.status !== 200) throw new Error(`bench: the model server answered ${reply.status}`);
  const parsed = JSON.parse(reply.body.toString('utf8')) as { choices?: Array<{ message?: { content?: string } }> };
  return parsed.choices?.[0]?.message?.content ?? '';
}

export interface FloorRun {
  wallMs: number;
  hostCpuMs: number;
  serverCpuMs: number;
  ok: boolean;
}

/** A floor's timed runs, summarized: wall median, CPU per step of this process and of the server. */
export interface Floor {
  transport: FloorTransport;
  runs: FloorRun[];
  wallMs: number;
  hostPerStep: number;
  serverPerStep: number;
  ok: boolean;
}

export function summarizeFloor(transport: FloorTransport, runs: FloorRun[], warmUpOk: boolean, steps: number): Floor {
  const median = (f: (r: FloorRun) => number): number => (runs.length > 0 ? quantile(runs.map(f), 0.5) : Number.NaN);
  return {
    transport,
    runs,
    wallMs: median((r) => r.wallMs),
    hostPerStep: median((r) => r.hostCpuMs) / steps,
    serverPerStep: median((r) => r.serverCpuMs) / steps,
    ok: warmUpOk && runs.length > 0 && runs.every((r) => r.ok),
  };
}
