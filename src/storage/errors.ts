/**
 * Errors of the storage layer, backend-neutral: a caller branches on `code`, never on which backend threw. Each
 * message says which record is involved and what to do, because storage errors usually reach a person who has to
 * fix something (a disk, a permission, a damaged record).
 */
import { AutomeshError, isAutomeshError } from '../core/errors.js';
import type { WorkflowLease } from './types.js';

export type StorageErrorCode =
  /** A record exists but cannot be read as what it should be. */
  | 'damaged'
  /** A write lost a race it must not win: a fenced write by a lease that was taken over, a failed compare-and-set. */
  | 'conflict'
  /** Someone else holds what was asked for (a workflow's lease). */
  | 'locked'
  /** A name (role, result id, workflow id, …) is not acceptable. */
  | 'invalid-name'
  /** The backend cannot be used: read-only or missing directory, full disk, closed connection. */
  | 'unavailable';

export class StorageError extends AutomeshError<StorageErrorCode> {
  constructor(code: StorageErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** True for a storage error (from any copy of this module); with `code`, only for that code. */
export function isStorageError(error: unknown, code?: StorageErrorCode): error is StorageError {
  return (
    isAutomeshError(error, code)
    && ['damaged', 'conflict', 'locked', 'invalid-name', 'unavailable'].includes(error.code)
  );
}

/** A name used as a key (role, result id, entry id, workflow id, task key) is not acceptable. */
export class InvalidNameError extends StorageError {
  constructor(
    readonly kind: string,
    readonly value: string,
    rule: string,
  ) {
    super(
      'invalid-name',
      `Invalid ${kind} ${JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value)}: ${rule}`,
    );
  }
}

/** The workflow is held by another run; `holder` says by whom. */
export class WorkflowLockedError extends StorageError {
  constructor(readonly holder: WorkflowLease) {
    const { owner } = holder;
    super(
      'locked',
      `Workflow "${holder.workflowId}" is being run by pid ${owner.pid} on ${owner.host} since ${owner.since} `
        + `(lease until ${new Date(holder.expiresAt).toISOString()}). Wait for it to finish, stop that process, or `
        + "pass { wait: true } to run once it is released; a crashed holder's lease expires by itself.",
    );
  }
}
