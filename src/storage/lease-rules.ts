/**
 * The rules of a workflow's owner lease, shared by every backend so they all decide alike: who may claim, renew,
 * release and write. A backend only stores the lease row (atomically with its check).
 */
import { StorageError, WorkflowLockedError } from './errors.js';
import { assertSafeName } from './names.js';
import { assertLimit, compareTimesDesc, decodeHeader, decodeStep, reasonOf } from './records.js';
import type {
  DamagedWorkflowRecord,
  LeaseOwner,
  StepRecord,
  WorkflowHeader,
  WorkflowLease,
  WorkflowListing,
  WorkflowSnapshot,
} from './types.js';

/** The stored lease of a workflow: the last one granted, and whether its holder gave it up. */
export interface LeaseRow {
  lease: WorkflowLease;
  released: boolean;
}

function assertOwner(owner: LeaseOwner): void {
  const ok =
    owner
    && typeof owner.runId === 'string'
    && owner.runId.length > 0
    && typeof owner.host === 'string'
    && Number.isInteger(owner.pid)
    && typeof owner.since === 'string';
  if (!ok)
    throw new TypeError(
      'A lease owner needs { runId, host, pid, since } (runId a non-empty string, pid a whole number)',
    );
}

function assertTtl(ttlMs: number): void {
  if (!Number.isFinite(ttlMs) || ttlMs <= 0)
    throw new RangeError(`A lease's ttlMs must be a number of milliseconds > 0; got ${ttlMs}`);
}

/**
 * The lease a claim gets, given the stored row: the same owner keeps its generation; a free, released or expired
 * workflow goes to the new owner with the generation grown by one; a live lease of another owner is refused.
 */
export function claimedLease(
  row: LeaseRow | null,
  workflowId: string,
  owner: LeaseOwner,
  ttlMs: number,
  now: number,
): WorkflowLease {
  assertSafeName('workflow id', workflowId);
  assertOwner(owner);
  assertTtl(ttlMs);
  const expiresAt = now + ttlMs;
  if (!row) return { workflowId, owner: { ...owner }, generation: 1, expiresAt };
  const { lease } = row;
  if (!row.released && lease.owner.runId === owner.runId) return { ...lease, expiresAt };
  if (!row.released && lease.expiresAt > now) throw new WorkflowLockedError(lease);
  return { workflowId, owner: { ...owner }, generation: lease.generation + 1, expiresAt };
}

/** Whether `lease` is the stored one and not given up: only then may its holder renew it or write. */
export function isCurrent(row: LeaseRow | null, lease: WorkflowLease): boolean {
  return (
    row !== null
    && !row.released
    && row.lease.generation === lease.generation
    && row.lease.owner.runId === lease.owner?.runId
  );
}

/** Throws `conflict` unless `lease` is current (see {@link isCurrent}). */
export function assertCurrent(row: LeaseRow | null, lease: WorkflowLease, doing: string): void {
  assertSafeName('workflow id', lease?.workflowId);
  if (isCurrent(row, lease)) return;
  const now =
    row && !row.released
      ? `it is now held by pid ${row.lease.owner.pid} on ${row.lease.owner.host} (generation ${row.lease.generation}), which took it over after this lease expired`
      : 'the lease was released or the workflow removed';
  throw new StorageError(
    'conflict',
    `Refused to ${doing} of workflow "${lease.workflowId}" for generation ${lease.generation}: ${now}. This run lost `
      + 'ownership (it stalled longer than its lease); stop it: the current holder carries the workflow on.',
  );
}

/** The renewed lease. */
export function renewedLease(row: LeaseRow | null, lease: WorkflowLease, ttlMs: number, now: number): WorkflowLease {
  assertTtl(ttlMs);
  assertCurrent(row, lease, 'renew the lease');
  return { ...(row as LeaseRow).lease, expiresAt: now + ttlMs };
}

/** Checks that a header belongs to the leased workflow. */
export function assertHeaderOf(lease: WorkflowLease, header: WorkflowHeader): void {
  if (header?.workflowId !== lease.workflowId) {
    throw new TypeError(
      `A header of workflow "${String(header?.workflowId)}" cannot be saved under the lease of "${lease.workflowId}"`,
    );
  }
}

/**
 * A snapshot from stored text: the header (or null) and each step's text by step id. A record that does not decode
 * is reported in `damaged` and left out, so it affects only itself.
 */
export function snapshotOf(
  workflowId: string,
  location: string,
  headerText: string | null,
  stepTexts: Iterable<[string, string]>,
): WorkflowSnapshot {
  const damaged: DamagedWorkflowRecord[] = [];
  let header: WorkflowHeader | null = null;
  if (headerText !== null) {
    try {
      header = decodeHeader(headerText, workflowId, location);
    } catch (error) {
      damaged.push({ kind: 'header', id: workflowId, reason: reasonOf(error) });
    }
  }
  const steps: StepRecord[] = [];
  for (const [stepId, text] of stepTexts) {
    try {
      steps.push(decodeStep(text, workflowId, stepId, location));
    } catch (error) {
      damaged.push({ kind: 'step', id: stepId, reason: reasonOf(error) });
    }
  }
  steps.sort((a, b) => a.index - b.index || (a.stepId < b.stepId ? -1 : 1));
  return { header, steps, damaged };
}

/**
 * A listing from stored header texts (workflow id, text): decoded, newest `startedAt` first, at most `limit`. A text
 * that does not decode is reported in `damaged` and left out.
 */
export function listingOf(
  location: string,
  headerTexts: Iterable<[string, string]>,
  limit: number | undefined,
): WorkflowListing {
  assertLimit('list workflows', limit);
  const headers: WorkflowHeader[] = [];
  const damaged: DamagedWorkflowRecord[] = [];
  for (const [workflowId, text] of headerTexts) {
    try {
      headers.push(decodeHeader(text, workflowId, location));
    } catch (error) {
      damaged.push({ kind: 'header', id: workflowId, reason: reasonOf(error) });
    }
  }
  headers.sort((a, b) => compareTimesDesc(a.startedAt, b.startedAt) || (a.workflowId < b.workflowId ? -1 : 1));
  return { headers: limit === undefined ? headers : headers.slice(0, limit), damaged };
}
