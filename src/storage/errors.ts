/**
 * Errors of the storage layer. Each message says which file or name is involved and what to do about it,
 * because storage errors usually reach a user who has to fix something on disk.
 */

/** Base class: every storage failure is one of these (or a plain I/O error from the operating system). */
export class StorageError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StorageError';
  }
}

/** A name used in a path (role, result id, entry id, workflow id, task key) is not safe to use as a file name. */
export class InvalidNameError extends StorageError {
  constructor(readonly kind: string, readonly value: string, rule: string) {
    super(`Invalid ${kind} ${JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value)}: ${rule}`);
    this.name = 'InvalidNameError';
  }
}

/**
 * A stored file exists but cannot be read as what it should be (bad JSON or wrong shape). Never treated as a
 * missing file: silently ignoring it would lose data or registry history without anyone noticing.
 */
export class DamagedFileError extends StorageError {
  constructor(readonly path: string, readonly reason: string, advice: string, options?: { cause?: unknown }) {
    super(
      `Storage file ${path} is damaged (${reason}). automesh writes files atomically, so it was probably edited by ` +
        `hand or hit a disk problem. Repair it by hand, or move it aside (mv '${path}' '${path}.damaged'); ${advice}`,
      options,
    );
    this.name = 'DamagedFileError';
  }
}

/** A cross-process lock could not be taken (or was lost) within the retry policy. */
export class StorageLockError extends StorageError {
  constructor(readonly path: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StorageLockError';
  }
}
