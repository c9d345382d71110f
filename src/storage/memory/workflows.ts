/** Workflow state in memory (header, one record per step, owner lease): for tests and throwaway runs. */
import {
  assertCurrent,
  assertHeaderOf,
  claimedLease,
  isCurrent,
  type LeaseRow,
  listingOf,
  renewedLease,
  snapshotOf,
} from '../lease-rules.js';
import { assertSafeName } from '../names.js';
import { headerText, stepText } from '../records.js';
import type {
  LeaseOwner,
  StepRecord,
  WorkflowHeader,
  WorkflowLease,
  WorkflowListing,
  WorkflowSnapshot,
  WorkflowStore,
} from '../types.js';

/** What is stored of one workflow. */
export interface MemoryWorkflowRow {
  header: string | null;
  steps: Map<string, string>;
  lease: LeaseRow | null;
}

export class MemoryWorkflowStore implements WorkflowStore {
  constructor(
    private readonly rows: Map<string, MemoryWorkflowRow> = new Map(),
    private readonly now: () => number = Date.now,
  ) {}

  private row(workflowId: string): MemoryWorkflowRow {
    assertSafeName('workflow id', workflowId);
    let row = this.rows.get(workflowId);
    if (!row) {
      row = { header: null, steps: new Map(), lease: null };
      this.rows.set(workflowId, row);
    }
    return row;
  }

  async claim(workflowId: string, owner: LeaseOwner, ttlMs: number): Promise<WorkflowLease> {
    const row = this.row(workflowId);
    const lease = claimedLease(row.lease, workflowId, owner, ttlMs, this.now());
    row.lease = { lease, released: false };
    return { ...lease };
  }

  async renew(lease: WorkflowLease, ttlMs: number): Promise<WorkflowLease> {
    const row = this.row(lease?.workflowId);
    const renewed = renewedLease(row.lease, lease, ttlMs, this.now());
    row.lease = { lease: renewed, released: false };
    return { ...renewed };
  }

  async release(lease: WorkflowLease): Promise<void> {
    const row = this.row(lease?.workflowId);
    const current = row.lease;
    if (current && isCurrent(current, lease)) row.lease = { lease: current.lease, released: true };
  }

  async holder(workflowId: string): Promise<WorkflowLease | null> {
    const lease = this.row(workflowId).lease;
    return lease && !lease.released ? { ...lease.lease, owner: { ...lease.lease.owner } } : null;
  }

  async list(options: { limit?: number } = {}): Promise<WorkflowListing> {
    const texts: Array<[string, string]> = [];
    for (const [workflowId, row] of this.rows) if (row.header !== null) texts.push([workflowId, row.header]);
    return listingOf('memory', texts, options.limit);
  }

  async load(workflowId: string): Promise<WorkflowSnapshot | null> {
    const row = this.row(workflowId);
    if (row.header === null && row.steps.size === 0) return null;
    return snapshotOf(workflowId, 'memory', row.header, row.steps);
  }

  async saveHeader(lease: WorkflowLease, header: WorkflowHeader): Promise<void> {
    const row = this.row(lease?.workflowId);
    assertCurrent(row.lease, lease, 'save the header');
    assertHeaderOf(lease, header);
    row.header = headerText(header);
  }

  async saveStep(lease: WorkflowLease, step: StepRecord): Promise<void> {
    const row = this.row(lease?.workflowId);
    assertCurrent(row.lease, lease, `save step ${String(step?.stepId)}`);
    row.steps.set(step.stepId, stepText(lease.workflowId, step));
  }

  async remove(workflowId: string): Promise<boolean> {
    const row = this.row(workflowId);
    const had = row.header !== null || row.steps.size > 0;
    row.header = null;
    row.steps.clear();
    return had;
  }
}
