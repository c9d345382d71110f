/** A workflow's saved state as the default store under a LOG_DIRECTORY holds it, for tests that look at it from outside. */
import { databasePath, openSqliteStorage, type WorkflowLease } from '../../src/storage/index.js';

export interface SavedWorkflow {
  status: string;
  steps: Record<string, { status: string; startedAt: string | null; finishedAt: string | null }>;
}

/** The header's status and each step record's status and times; null when nothing is stored for the workflow. */
export async function loadWorkflowState(logDir: string, workflowId: string): Promise<SavedWorkflow | null> {
  const storage = openSqliteStorage(databasePath(logDir));
  try {
    const snapshot = await storage.workflows.load(workflowId);
    if (!snapshot?.header) return null;
    return {
      status: snapshot.header.status,
      steps: Object.fromEntries(
        snapshot.steps.map((s) => [s.stepId, { status: s.status, startedAt: s.startedAt, finishedAt: s.finishedAt }]),
      ),
    };
  } finally {
    await storage.close();
  }
}

/** The workflow's lease as stored (whether its holder is alive or not); null when none is held. */
export async function holderOf(logDir: string, workflowId: string): Promise<WorkflowLease | null> {
  const storage = openSqliteStorage(databasePath(logDir));
  try {
    return await storage.workflows.holder(workflowId);
  } finally {
    await storage.close();
  }
}
