/**
 * Workflow state in the database: a header row, one row per step, and the owner lease. Every write checks the lease
 * in the same transaction (fencing): a run whose lease was taken over cannot write.
 */
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
import type { SqliteDatabase } from './database.js';

interface LeaseColumns {
  workflow_id: string;
  run_id: string;
  host: string;
  pid: number;
  since: string;
  generation: number;
  expires_at: number;
  released: number;
}

const READ_LEASE = 'SELECT * FROM workflow_leases WHERE workflow_id = ?';
const WRITE_LEASE = `INSERT INTO workflow_leases (workflow_id, run_id, host, pid, since, generation, expires_at, released)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (workflow_id) DO UPDATE SET run_id = excluded.run_id, host = excluded.host,
  pid = excluded.pid, since = excluded.since, generation = excluded.generation, expires_at = excluded.expires_at, released = excluded.released`;
const SAVE_HEADER =
  'INSERT INTO workflow_headers (workflow_id, body) VALUES (?, ?) ON CONFLICT (workflow_id) DO UPDATE SET body = excluded.body';
const SAVE_STEP = `INSERT INTO workflow_steps (workflow_id, step_id, body) VALUES (?, ?, ?)
  ON CONFLICT (workflow_id, step_id) DO UPDATE SET body = excluded.body`;

function rowOf(columns: LeaseColumns | undefined): LeaseRow | null {
  if (!columns) return null;
  const { workflow_id: workflowId, run_id: runId, host, pid, since, generation, expires_at: expiresAt } = columns;
  return {
    lease: { workflowId, owner: { runId, host, pid, since }, generation, expiresAt },
    released: columns.released !== 0,
  };
}

export class SqliteWorkflowStore implements WorkflowStore {
  constructor(
    private readonly database: SqliteDatabase,
    private readonly now: () => number = Date.now,
  ) {}

  async claim(workflowId: string, owner: LeaseOwner, ttlMs: number): Promise<WorkflowLease> {
    assertSafeName('workflow id', workflowId);
    return this.database.write(`claim workflow ${workflowId}`, () => {
      const lease = claimedLease(this.lease(workflowId), workflowId, owner, ttlMs, this.now());
      this.storeLease({ lease, released: false });
      return lease;
    });
  }

  async renew(lease: WorkflowLease, ttlMs: number): Promise<WorkflowLease> {
    assertSafeName('workflow id', lease?.workflowId);
    return this.database.write(`renew the lease of workflow ${lease.workflowId}`, () => {
      const renewed = renewedLease(this.lease(lease.workflowId), lease, ttlMs, this.now());
      this.storeLease({ lease: renewed, released: false });
      return renewed;
    });
  }

  async release(lease: WorkflowLease): Promise<void> {
    assertSafeName('workflow id', lease?.workflowId);
    await this.database.write(`release workflow ${lease.workflowId}`, () => {
      const row = this.lease(lease.workflowId);
      if (row && isCurrent(row, lease)) this.storeLease({ lease: row.lease, released: true });
    });
  }

  async holder(workflowId: string): Promise<WorkflowLease | null> {
    assertSafeName('workflow id', workflowId);
    const row = this.database.run(`read the lease of workflow ${workflowId}`, () => this.lease(workflowId));
    return row && !row.released ? row.lease : null;
  }

  async list(options: { limit?: number } = {}): Promise<WorkflowListing> {
    const rows = this.database.run('list workflows', () =>
      this.database.statement('SELECT workflow_id, body FROM workflow_headers').all(),
    ) as Array<{ workflow_id: string; body: string }>;
    return listingOf(
      this.database.file,
      rows.map((r) => [r.workflow_id, r.body] as [string, string]),
      options.limit,
    );
  }

  async load(workflowId: string): Promise<WorkflowSnapshot | null> {
    assertSafeName('workflow id', workflowId);
    const { header, steps } = this.database.run(`load workflow ${workflowId}`, () => ({
      header: this.database.statement('SELECT body FROM workflow_headers WHERE workflow_id = ?').get(workflowId) as
        | { body: string }
        | undefined,
      steps: this.database
        .statement('SELECT step_id, body FROM workflow_steps WHERE workflow_id = ?')
        .all(workflowId) as Array<{ step_id: string; body: string }>,
    }));
    if (!header && steps.length === 0) return null;
    return snapshotOf(
      workflowId,
      this.database.file,
      header?.body ?? null,
      steps.map((s) => [s.step_id, s.body] as [string, string]),
    );
  }

  async saveHeader(lease: WorkflowLease, header: WorkflowHeader): Promise<void> {
    assertSafeName('workflow id', lease?.workflowId);
    assertHeaderOf(lease, header);
    const body = headerText(header);
    await this.database.write(`save the header of workflow ${lease.workflowId}`, () => {
      assertCurrent(this.lease(lease.workflowId), lease, 'save the header');
      this.database.statement(SAVE_HEADER).run(lease.workflowId, body);
    });
  }

  async saveStep(lease: WorkflowLease, step: StepRecord): Promise<void> {
    assertSafeName('workflow id', lease?.workflowId);
    const body = stepText(lease.workflowId, step);
    await this.database.write(`save step ${step.stepId} of workflow ${lease.workflowId}`, () => {
      assertCurrent(this.lease(lease.workflowId), lease, `save step ${step.stepId}`);
      this.database.statement(SAVE_STEP).run(lease.workflowId, step.stepId, body);
    });
  }

  async remove(workflowId: string): Promise<boolean> {
    assertSafeName('workflow id', workflowId);
    return this.database.write(`remove workflow ${workflowId}`, () => {
      const headers = this.database
        .statement('DELETE FROM workflow_headers WHERE workflow_id = ?')
        .run(workflowId).changes;
      const steps = this.database.statement('DELETE FROM workflow_steps WHERE workflow_id = ?').run(workflowId).changes;
      return headers + steps > 0;
    });
  }

  private lease(workflowId: string): LeaseRow | null {
    return rowOf(this.database.statement(READ_LEASE).get(workflowId) as LeaseColumns | undefined);
  }

  private storeLease({ lease, released }: LeaseRow): void {
    const { owner } = lease;
    this.database
      .statement(WRITE_LEASE)
      .run(
        lease.workflowId,
        owner.runId,
        owner.host,
        owner.pid,
        owner.since,
        lease.generation,
        lease.expiresAt,
        released ? 1 : 0,
      );
  }
}
