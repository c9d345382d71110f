/**
 * `POST /agents/:name/tasks`: one task for an agent of the mesh, in this process or any other. The name is a role,
 * a capability or a catalog name, as a workflow step's `agent`. An AutoAgent answers with its envelope; a CustomAgent
 * runs the task as a workflow step does (`executeTask`: its `onPeerRequest({ task, context })`) and answers with an
 * envelope too. An agent that takes no tasks (a function agent) is refused, naming the ones that do.
 */
import { randomUUID } from 'node:crypto';
import { checkedSession, type SessionInput, sessionHeader } from '../agent/session.js';
import type { Mesh } from '../mesh/mesh.js';
import { isMeshError } from '../transport/oam/mesh-error.js';
import { HttpProblem } from './responses.js';

export interface TaskBody {
  task: string;
  context?: Record<string, unknown> | undefined;
  id?: string | undefined;
  session?: { id?: string | undefined; metadata?: Record<string, unknown> | undefined } | undefined;
}

/** The session as `checkedSession` takes it: fields that are absent left out. */
function withoutUndefined(session: NonNullable<TaskBody['session']>): SessionInput {
  return {
    ...(session.id !== undefined ? { id: session.id } : {}),
    ...(session.metadata !== undefined ? { metadata: session.metadata } : {}),
  };
}

/** HTTP statuses of the mesh's error codes: the caller's fault 4xx, the agent's or the mesh's 5xx. */
const STATUS_OF: Record<string, number> = {
  invalid_input: 400,
  invocation_mismatch: 400,
  payload_too_large: 413,
  not_found: 404,
  not_available: 503,
  connection_failed: 503,
  connection_denied: 503,
  agent_died: 502,
  handler_error: 502,
  invalid_output: 502,
  timeout: 504,
  cancelled: 499,
};

/** A MeshError as the HTTP problem to answer with (its code and details kept); anything else unchanged. */
export function meshProblem(err: unknown): unknown {
  if (!isMeshError(err)) return err;
  return new HttpProblem(STATUS_OF[err.code] ?? 502, err.code, err.message, {
    ...(Object.keys(err.details).length > 0 ? { details: err.details } : {}),
  });
}

/** The agents that take tasks, for the message of a name that is none of them. */
async function taskAgents(mesh: Mesh): Promise<Array<{ name: string; tags: string[] }>> {
  const entries = await mesh.catalog({ invocable: true });
  const kinds = await Promise.allSettled(entries.map((entry) => kindOf(mesh, entry.name)));
  return entries.flatMap((entry, i) => {
    const found = kinds[i];
    const takesTasks = found?.status === 'fulfilled' && (found.value === 'auto' || found.value === 'custom');
    return takesTasks ? [{ name: entry.name, tags: entry.tags }] : [];
  });
}

function listed(agents: Array<{ name: string; tags: string[] }>): string {
  if (agents.length === 0) return 'no agent on this mesh takes tasks';
  return `the agents that take tasks are ${agents.map((a) => (a.tags.length ? `${a.name} (${a.tags.join(', ')})` : a.name)).join(', ')}`;
}

async function kindOf(mesh: Mesh, name: string): Promise<string | null> {
  if (mesh.getAgent(name)) return 'auto';
  return (await mesh.contract(name)).kind;
}

async function notFound(mesh: Mesh, name: string): Promise<HttpProblem> {
  const agents = await taskAgents(mesh);
  return new HttpProblem(404, 'not_found', `No agent "${name}" on this mesh: ${listed(agents)}.`, { agents });
}

/** Runs the task on the agent `name` names; resolves with its envelope, rejects with the {@link HttpProblem}. */
export async function runAgentTask(mesh: Mesh, name: string, body: TaskBody, signal: AbortSignal): Promise<unknown> {
  const target = mesh.resolveAgent(name);
  if (target === undefined) throw await notFound(mesh, name);
  let kind: string | null;
  try {
    kind = await kindOf(mesh, target);
  } catch (err) {
    if (isMeshError(err) && err.code === 'not_found') throw await notFound(mesh, name);
    throw err;
  }
  if (kind !== 'auto' && kind !== 'custom') {
    const agents = await taskAgents(mesh);
    throw new HttpProblem(
      400,
      'not_a_task_agent',
      `Agent "${target}" takes no tasks (it is ${kind === 'function' ? 'a function agent, with an input schema of its own' : 'not an automesh agent'}): ${listed(agents)}.`,
      { agents },
    );
  }
  const context = body.context ?? {};
  // A CustomAgent runs a task as a workflow step (executeTask), answering with an envelope, when the input has a
  // step id; the id of this request serves, and is not part of the answer.
  const input =
    kind === 'auto'
      ? { task: body.task, context, ...(body.id !== undefined ? { id: body.id } : {}) }
      : { task: body.task, context, stepId: `http-${randomUUID()}` };
  const timeoutMs = mesh.settings.MESH_STEP_TIMEOUT * 1000;
  try {
    const headers = body.session ? sessionHeader(checkedSession(withoutUndefined(body.session), target)) : {};
    const envelope = (await mesh.call(target, input, { timeoutMs, signal, headers })) as Record<string, unknown>;
    if (kind === 'custom' && envelope && typeof envelope === 'object') delete envelope.stepId;
    return envelope;
  } catch (err) {
    throw meshProblem(err);
  }
}
