/**
 * Workflow state on files: `<dir>/<workflowId>.json` (normally `<LOG_DIRECTORY>/workflows`), written atomically so
 * a crash mid-save leaves the previous state for the resume.
 */
import { unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { readJson, writeJson } from './json-file.js';
import { assertSafeName } from './names.js';
import type { WholeDocumentWorkflowStore as WorkflowStore } from './types.js';

const ADVICE = 'the workflow then cannot resume and starts again from its first step.';

/** {@link WorkflowStore} on files. The state is stored as given (JSON), so its shape belongs to the workflow engine. */
export class FileWorkflowStore implements WorkflowStore {
  /** Absolute workflows directory. */
  readonly dir: string;

  constructor(dir: string) {
    this.dir = resolve(dir);
  }

  private file(workflowId: string): string {
    return join(this.dir, `${assertSafeName('workflow id', workflowId)}.json`);
  }

  async load(workflowId: string): Promise<unknown | null> {
    return readJson(this.file(workflowId), (data) => data, ADVICE);
  }

  async save(workflowId: string, state: unknown): Promise<void> {
    // Compact: a large workflow's state is rewritten often, and indentation doubles its size.
    await writeJson(this.file(workflowId), state, { durable: true, compact: true });
  }

  async remove(workflowId: string): Promise<boolean> {
    try {
      await unlink(this.file(workflowId));
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
  }
}
