/**
 * The HTTP service of a mesh, framework-neutral: it takes a web `Request` and answers a `Response` (or null for a
 * path that is not its own), so Hono mounts it as it is, and `automesh serve` and the Fastify plugin reach it through
 * Node's http types (node-http.ts). The routes:
 *
 *   POST /agents/:name/tasks      a task for an agent: { task, context?, id?, session? } → its envelope
 *   POST /workflows               { id?, steps, fresh?, budgetUsd?, wait? } → 202 { id, status, links } (wait: 200, the state)
 *   GET  /workflows/:id           the workflow's state: status, each step's status and envelope, the summary
 *   GET  /workflows/:id/events    its progress as server-sent events (from the start; Last-Event-ID resumes)
 *   GET  /health                  node, transport, connection, peers, last errors (503 unless ok)
 *   GET  /metrics                 the mesh's Prometheus metrics (text exposition format)
 *
 * Every request is checked for the access token first (when there is one), every body for its size and shape.
 */
import { secretsOf } from '../llm/redact.js';
import type { Mesh } from '../mesh/mesh.js';
import { runAgentTask } from './agent-tasks.js';
import { authProblem } from './auth.js';
import { DEFAULT_MAX_BODY_BYTES, readJsonBody } from './body.js';
import { HealthMonitor } from './health.js';
import type { ConnectionInfo } from './node-http.js';
import {
  newWorkflowId,
  parseBody,
  TASK_EXAMPLE,
  taskRequest,
  WORKFLOW_EXAMPLE,
  workflowRequest,
  workflowSteps,
} from './request-schemas.js';
import { HttpProblem, jsonResponse, problemResponse } from './responses.js';
import { eventStreamResponse } from './sse.js';
import { WorkflowRuns } from './workflow-runs.js';
import { workflowView } from './workflow-view.js';

export interface MeshHandlerOptions {
  /** The access token requests must carry as `Authorization: Bearer <token>`; default: the SERVE_TOKEN setting. */
  token?: string;
  /** The largest request body, in bytes (default 1 MiB); a larger one is refused with 413. */
  maxBodyBytes?: number;
  /** Where the routes are mounted, e.g. `/mesh` (default: at the root). */
  basePath?: string;
  /** Seconds between keep-alive comments of an event stream (default 15). */
  keepAliveSeconds?: number;
  /** Where problems are written as they happen (default: stderr). */
  log?: (line: string) => void;
}

export interface MeshHandler {
  /** The response to `request`; null when its path is not one of the service's (another handler's, or 404). */
  handle(request: Request, connection?: ConnectionInfo): Promise<Response | null>;
  /** Ends the event streams and stops listening to the mesh. */
  close(): void;
}

/** The service's paths, as routers write them (for frameworks that route before the handler sees a request). */
export const SERVICE_PATHS: readonly string[] = [
  '/agents/:name/tasks',
  '/workflows',
  '/workflows/:id',
  '/workflows/:id/events',
  '/health',
  '/metrics',
];

type Route = 'task' | 'startWorkflow' | 'workflow' | 'workflowEvents' | 'health' | 'metrics';

const ROUTES: ReadonlyArray<{ route: Route; method: string; path: RegExp }> = [
  { route: 'task', method: 'POST', path: /^\/agents\/([^/]+)\/tasks$/ },
  { route: 'startWorkflow', method: 'POST', path: /^\/workflows$/ },
  { route: 'workflow', method: 'GET', path: /^\/workflows\/([^/]+)$/ },
  { route: 'workflowEvents', method: 'GET', path: /^\/workflows\/([^/]+)\/events$/ },
  { route: 'health', method: 'GET', path: /^\/health$/ },
  { route: 'metrics', method: 'GET', path: /^\/metrics$/ },
];

/** The route a method and path name (null: not a path of the service); a known path with another method is 405. */
function matchRoute(method: string, path: string): { route: Route; param: string } | null {
  const onPath = ROUTES.map((r) => ({ ...r, match: r.path.exec(path) })).filter((r) => r.match !== null);
  if (onPath.length === 0) return null;
  const found = onPath.find((r) => r.method === method);
  if (!found) {
    const allow = onPath.map((r) => r.method).join(', ');
    throw new HttpProblem(405, 'method_not_allowed', `${path} takes ${allow}, not ${method}.`, { allow });
  }
  const raw = found.match?.[1] ?? '';
  try {
    return { route: found.route, param: decodeURIComponent(raw) };
  } catch {
    throw new HttpProblem(400, 'invalid_request', `The path segment "${raw}" is not valid percent-encoding.`);
  }
}

/** The service's handler for `mesh`. Create it before or after `mesh.start()`; until then it answers 503. */
export function createMeshHandler(mesh: Mesh, options: MeshHandlerOptions = {}): MeshHandler {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const basePath = (options.basePath ?? '').replace(/\/+$/, '');
  const keepAliveMs = (options.keepAliveSeconds ?? 15) * 1000;
  const secrets = (): string[] => [
    ...(mesh.started ? secretsOf(mesh.settings) : []),
    ...(options.token ? [options.token] : []),
  ];
  const health = new HealthMonitor(mesh, log, secrets);
  const runs = new WorkflowRuns(mesh);
  const closing = new AbortController();
  const requireStarted = (): void => {
    if (!mesh.started)
      throw new HttpProblem(
        503,
        'not_started',
        'The mesh is not running (it starts with the server and stops with it): try again in a moment.',
      );
  };

  async function route(request: Request, route: Route, param: string): Promise<Response> {
    switch (route) {
      case 'health': {
        const report = await health.report();
        return jsonResponse(report.status === 'ok' ? 200 : 503, report, secrets());
      }
      case 'metrics':
        // Labels are roles, providers, models and categories only: nothing here can hold a secret.
        return new Response(await mesh.metrics.render(), {
          status: 200,
          headers: { 'content-type': mesh.metrics.contentType },
        });
      case 'task': {
        requireStarted();
        const body = parseBody(taskRequest, await readJsonBody(request, maxBodyBytes, TASK_EXAMPLE), TASK_EXAMPLE);
        return jsonResponse(200, await runAgentTask(mesh, param, body, request.signal), secrets());
      }
      case 'startWorkflow': {
        requireStarted();
        const body = parseBody(
          workflowRequest,
          await readJsonBody(request, maxBodyBytes, WORKFLOW_EXAMPLE),
          WORKFLOW_EXAMPLE,
        );
        const id = body.id ?? newWorkflowId();
        const { run, done } = await runs.start({
          id,
          steps: workflowSteps(body.steps),
          ...(body.fresh !== undefined ? { fresh: body.fresh } : {}),
          ...(body.budgetUsd !== undefined ? { budgetUsd: body.budgetUsd } : {}),
        });
        if (body.wait) {
          await done;
          return jsonResponse(200, await workflowView(mesh, id, run, basePath), secrets());
        }
        const links = { self: `${basePath}/workflows/${id}`, events: `${basePath}/workflows/${id}/events` };
        return jsonResponse(202, { id, status: run.status, links }, secrets(), { location: links.self });
      }
      case 'workflow': {
        requireStarted();
        return jsonResponse(200, await workflowView(mesh, param, runs.get(param), basePath), secrets());
      }
      case 'workflowEvents': {
        requireStarted();
        const run = runs.get(param);
        if (!run)
          throw new HttpProblem(
            404,
            'not_found',
            `No workflow "${param}" was started through this service since it started: live events are for those `
              + `(POST /workflows); GET ${basePath}/workflows/${param} reads the stored state of any workflow.`,
          );
        const lastEventId = Number.parseInt(request.headers.get('last-event-id') ?? '0', 10);
        return eventStreamResponse(run, {
          lastEventId: Number.isFinite(lastEventId) ? lastEventId : 0,
          secrets: secrets(),
          keepAliveMs,
          signal: closing.signal,
        });
      }
    }
  }

  async function handle(request: Request, connection: ConnectionInfo = {}): Promise<Response | null> {
    const path = new URL(request.url).pathname;
    if (basePath && path !== basePath && !path.startsWith(`${basePath}/`)) return null;
    try {
      const matched = matchRoute(request.method, path.slice(basePath.length) || '/');
      if (!matched) return null;
      const token = options.token ?? (mesh.started ? mesh.settings.SERVE_TOKEN : undefined);
      const refused = authProblem(request.headers.get('authorization'), token, connection.localAddress);
      if (refused) throw new HttpProblem(refused.status, refused.code, refused.message);
      health.observe();
      return await route(request, matched.route, matched.param);
    } catch (err) {
      if (err instanceof HttpProblem) return problemResponse(err, secrets());
      const message = err instanceof Error ? err.message : String(err);
      health.recordError(`${request.method} ${path} failed: ${message}`);
      return problemResponse(new HttpProblem(500, 'internal', message), secrets());
    }
  }

  return {
    handle,
    close() {
      closing.abort();
      runs.close();
      health.close();
    },
  };
}
