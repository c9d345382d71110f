/**
 * Validation of every name that becomes part of a file path. Anything not matching a strict pattern is rejected
 * (rather than escaped) so a role or id can never climb out of the storage directory or hide as a dot-file.
 */
import { InvalidNameError } from './errors.js';

/** Letters, digits, `_`, `-`, `.`; starts with a letter or digit; at most 128 characters. */
export const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

const SAFE_RULE =
  'use 1 to 128 letters, digits, "_", "-" or ".", starting with a letter or digit (names become file names '
  + 'inside the storage directory, so "/", "\\", ".." and the like are refused)';

/**
 * Role names that cannot be used by the result store: `<root>/registry` and `<root>/workflows` hold the other
 * stores (DESIGN.md section 6) and `<root>/blobs` the agents' blobs of a mesh in one process, so a role of that name
 * would mix its results into them.
 */
export const RESERVED_ROLE_NAMES: ReadonlySet<string> = new Set(['registry', 'workflows', 'blobs']);

/** Throws {@link InvalidNameError} unless `value` is a safe file-name component; returns it. */
export function assertSafeName(kind: string, value: unknown): string {
  if (typeof value !== 'string') throw new InvalidNameError(kind, String(value), `a ${kind} must be a string`);
  if (!SAFE_NAME.test(value)) throw new InvalidNameError(kind, value, SAFE_RULE);
  return value;
}

/** {@link assertSafeName} for roles, also refusing the reserved directory names. */
export function assertRoleName(value: unknown): string {
  const role = assertSafeName('role', value);
  if (RESERVED_ROLE_NAMES.has(role.toLowerCase())) {
    throw new InvalidNameError(
      'role',
      role,
      `"${role}" is reserved for automesh's own storage; choose another role name`,
    );
  }
  return role;
}

const TASK_KEY = /^[0-9a-f]{64}$/;

/** Task keys are sha256 hex digests; anything else is a caller bug. */
export function assertTaskKey(value: unknown): string {
  if (typeof value !== 'string' || !TASK_KEY.test(value)) {
    throw new InvalidNameError('task key', String(value), 'a task key is 64 lower-case hex digits (see taskKey())');
  }
  return value;
}
