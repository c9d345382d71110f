/**
 * `GET /workflows/:id`: a workflow's state as the service shows it. The stored state (whichever process ran it, on
 * this mesh's storage) gives the status and each step's status and envelope; a run started through this service
 * adds its summary, or why it failed.
 */
import type { WorkflowSummary } from '../mesh/events.js';
import type { Mesh } from '../mesh/mesh.js';
import { HttpProblem } from './responses.js';
import type { RunStatus, WorkflowRun } from './workflow-runs.js';

export interface WorkflowView {
  id: string;
  status: RunStatus | 'unknown';
  startedAt: string | null;
  updatedAt: string | null;
  steps: Array<{
    id: string;
    role: string;
    task: string;
    status: string;
    envelope: Record<string, unknown> | null;
    startedAt: string | null;
    finishedAt: string | null;
  }>;
  /** The summary of a run started through this service (null for others, and while it runs). */
  summary: WorkflowSummary | null;
  /** Why a run started through this service stopped (its state could not be saved, ...); null otherwise. */
  error: string | null;
  links: { self: string; events: string };
}

export async function workflowView(
  mesh: Mesh,
  id: string,
  run: WorkflowRun | undefined,
  basePath: string,
): Promise<WorkflowView> {
  let snapshot: Awaited<ReturnType<Mesh['workflowState']>>;
  try {
    snapshot = await mesh.workflowState(id);
  } catch (err) {
    if (err instanceof TypeError) throw new HttpProblem(400, 'invalid_request', err.message);
    throw err;
  }
  if (!snapshot && !run) {
    throw new HttpProblem(
      404,
      'not_found',
      `No workflow "${id}" is stored on this mesh: POST ${basePath}/workflows starts one.`,
    );
  }
  const steps = [...(snapshot?.steps ?? [])]
    .sort((a, b) => a.index - b.index)
    .map((step) => ({
      id: step.stepId,
      role: step.role,
      task: step.task,
      status: step.status,
      envelope: step.envelope,
      startedAt: step.startedAt,
      finishedAt: step.finishedAt,
    }));
  return {
    id,
    status: run?.status ?? snapshot?.header?.status ?? 'unknown',
    startedAt: snapshot?.header?.startedAt ?? null,
    updatedAt: snapshot?.header?.updatedAt ?? null,
    steps,
    summary: run?.summary ?? null,
    error: run?.error ?? null,
    links: { self: `${basePath}/workflows/${id}`, events: `${basePath}/workflows/${id}/events` },
  };
}
