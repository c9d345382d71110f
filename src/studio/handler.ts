/**
 * The studio as a request handler for node:http: `(req, res) => Promise<boolean>`, true when it answered, false
 * when the path is not under its `basePath` (so `automesh serve`, or any node:http server, can mount it beside its
 * own routes). JSON routes under `api/`, live step states as server-sent events, and the bundled page.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isStorageError } from '../storage/errors.js';
import { bearerMatches } from './auth.js';
import { StudioData } from './data.js';
import { type GraphStream, streamGraph } from './events.js';
import { redactDeep } from './redact.js';
import { parseSince } from './since.js';
import type { StudioSource } from './source.js';
import { defaultStaticDir, StaticFiles } from './static-files.js';

export interface StudioOptions {
  source: StudioSource;
  /** Where the dashboard is mounted, ending in `/` (default `/`); e.g. `/studio/` beside other routes. */
  basePath?: string;
  /** When set, every `api/` route needs `Authorization: Bearer <token>` (compared in constant time). */
  token?: string;
  /** Values never sent, wherever they appear (API keys, endpoint credentials); the token is always among them. */
  secrets?: readonly string[];
  /** The bundled page (default: dist/studio of this package). */
  staticDir?: string;
  /** How often a live stream reads the workflow's state (default 250 ms). */
  pollMs?: number;
  /** The clock of the numbers' windows (tests). */
  now?: () => number;
}

export interface Studio {
  handle(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  /** Ends the open live streams (call before closing the server, whose close waits for them). */
  close(): void;
}

/** A request the studio refuses, with the status it answers. */
class HttpProblem extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'",
};

function normalBase(basePath: string | undefined): string {
  const base = basePath ?? '/';
  if (!base.startsWith('/') || !base.endsWith('/'))
    throw new TypeError(`Studio option basePath must start and end with "/" (e.g. "/studio/"); got "${base}"`);
  return base;
}

function positiveInt(text: string | null, name: string, fallback: number, max: number): number {
  if (text === null) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > max)
    throw new HttpProblem(400, `${name} must be a whole number from 1 to ${max}; got "${text}"`);
  return value;
}

export function createStudio(options: StudioOptions): Studio {
  const base = normalBase(options.basePath);
  const data = new StudioData(options.source, options.now);
  const files = new StaticFiles(options.staticDir ?? defaultStaticDir());
  const secrets = [...(options.secrets ?? []), ...(options.token ? [options.token] : [])].sort(
    (a, b) => b.length - a.length,
  );
  const redact = (value: unknown): unknown => redactDeep(value, secrets);
  const streams = new Set<GraphStream>();
  const pollMs = options.pollMs ?? 250;
  const now = options.now ?? Date.now;

  const sendJson = (res: ServerResponse, status: number, body: unknown): void => {
    const text = JSON.stringify(redact(body));
    res.writeHead(status, {
      ...SECURITY_HEADERS,
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store',
    });
    res.end(text);
  };

  const found = <T>(value: T | null, what: string): T => {
    if (value === null) throw new HttpProblem(404, `${what} was not found`);
    return value;
  };

  /** The JSON answer of one `api/` route; null when no route matches. */
  const api = async (parts: string[], query: URLSearchParams): Promise<unknown> => {
    const [head, id, sub, subId] = parts;
    switch (head) {
      case 'overview':
        return { location: data.location, tokenRequired: options.token !== undefined };
      case 'agents':
        return { agents: await data.agents() };
      case 'workflows':
        if (id === undefined) return data.workflows(positiveInt(query.get('limit'), 'limit', 100, 1000));
        if (sub === undefined) return found(await data.workflow(id), `Workflow "${id}"`);
        if (sub === 'steps' && subId !== undefined)
          return found(await data.step(id, subId), `Step "${subId}" of workflow "${id}"`);
        return null;
      case 'results':
        if (id === undefined)
          return {
            results: await data.results({
              ...(query.get('role') ? { role: query.get('role') as string } : {}),
              limit: positiveInt(query.get('limit'), 'limit', 50, 1000),
            }),
          };
        return found(await data.result(id), `Result "${id}"`);
      case 'registry':
        if (id === undefined) return data.registry(query.get('q')?.trim() || null);
        return found(await data.registryEntry(id), `Registry entry "${id}"`);
      case 'stats': {
        const since = parseSince(query.get('since') ?? '7d', now());
        if (since === null)
          throw new HttpProblem(
            400,
            `since must be a duration such as 24h, 7d or 30d, or an ISO time; got "${query.get('since')}"`,
          );
        return data.stats(since);
      }
      default:
        return null;
    }
  };

  const answerApi = async (req: IncomingMessage, res: ServerResponse, parts: string[], url: URL): Promise<void> => {
    if (options.token !== undefined && !bearerMatches(req.headers.authorization, options.token)) {
      res.setHeader('www-authenticate', 'Bearer');
      throw new HttpProblem(
        401,
        'This studio needs Authorization: Bearer <SERVE_TOKEN>; open the page as …/#token=<SERVE_TOKEN>.',
      );
    }
    const [head, id, sub] = parts;
    if (head === 'workflows' && id !== undefined && sub === 'events' && parts.length === 3) {
      const stream = streamGraph(res, () => data.workflow(id), {
        pollMs,
        redact,
        onStop: () => streams.delete(stream),
      });
      streams.add(stream);
      return;
    }
    const body = await api(parts, url.searchParams);
    if (body === null) throw new HttpProblem(404, `No studio route ${url.pathname}`);
    sendJson(res, 200, body);
  };

  const answerPage = (res: ServerResponse, name: string): void => {
    const file = files.read(name === '' ? 'index.html' : name);
    if (!file) throw new HttpProblem(404, `No studio file ${name}`);
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': file.type, 'cache-control': 'no-cache' });
    res.end(file.body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const url = new URL(req.url ?? '/', 'http://studio.invalid');
    if (url.pathname === base.slice(0, -1) && base !== '/') {
      res.writeHead(308, { location: `${base}${url.search}` }).end();
      return true;
    }
    if (!url.pathname.startsWith(base)) return false;
    const rest = url.pathname.slice(base.length);
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpProblem(405, 'The studio only reads: use GET');
      const parts = rest.split('/').map((p) => decodeURIComponent(p));
      if (parts[0] === 'api')
        await answerApi(
          req,
          res,
          parts.slice(1).filter((p, i) => p !== '' || i === 0),
          url,
        );
      else answerPage(res, rest);
    } catch (error) {
      if (res.headersSent) res.end();
      else sendJson(res, statusOf(error), { error: (error as Error).message });
    }
    return true;
  };

  return {
    handle,
    close() {
      for (const stream of [...streams]) stream.stop();
    },
  };
}

function statusOf(error: unknown): number {
  if (error instanceof HttpProblem) return error.status;
  if (error instanceof URIError) return 400;
  if (isStorageError(error, 'invalid-name')) return 400;
  return 500;
}
