/** A workflow's saved state as the default store under a LOG_DIRECTORY holds it, for tests that look at it from outside. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SavedWorkflow {
  status: string;
  steps: Record<string, { status: string }>;
}

export async function loadWorkflowState(logDir: string, workflowId: string): Promise<SavedWorkflow> {
  return JSON.parse(readFileSync(join(logDir, 'workflows', `${workflowId}.json`), 'utf8')) as SavedWorkflow;
}
