/**
 * What every backend does to a record on its way in and out: validation before a write (a caller bug never reaches
 * the store), JSON text, and decoding that reports a damaged record with where it is and what to do, so it affects
 * only itself.
 */

import type { z } from 'zod';
import type { DamagedRecord, RegistryEntry } from '../registry/types.js';
import { StorageError } from './errors.js';
import { assertRoleName, assertSafeName } from './names.js';
import { surelyRegistryEntry, surelyStepRecord, surelyStoredResult } from './record-checks.js';
import {
  type Decoder,
  decodeRegistryEntry,
  decodeStepRecord,
  decodeStoredResult,
  decodeWorkflowHeader,
  registryEntrySchema,
  stepRecordSchema,
  storedResultSchema,
  workflowHeaderSchema,
} from './schemas.js';
import type { ResultSummary, StepRecord, StoredResult, WorkflowHeader } from './types.js';

/** What losing each kind of record costs, for the damage message. */
export const ADVICE = {
  result: 'only this one result is lost from the log.',
  entry:
    'the registry then forgets this code (it is generated again when next needed); remove it with automesh registry rm.',
  header: 'the workflow then cannot resume and starts again from its first step.',
  step: 'that step then runs again when the workflow resumes.',
} as const;

function problemsOf(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`)
    .join('; ');
}

/** JSON text of `value`; refuses what is not JSON data (a BigInt, a cycle, undefined) with `what` named. */
export function jsonText(what: string, value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw new StorageError(
      'invalid-name',
      `Cannot store ${what}: the value is not JSON data (${(error as Error).message})`,
      { cause: error },
    );
  }
  if (text === undefined)
    throw new StorageError('invalid-name', `Cannot store ${what}: the value is not JSON data (got ${typeof value})`);
  return text;
}

/** The damage report of a record that did not decode. */
export function damagedError(
  what: string,
  location: string,
  reason: string,
  advice: string,
  cause?: unknown,
): StorageError {
  return new StorageError(
    'damaged',
    `${what} in ${location} is damaged (${reason}). It was probably edited by hand or hit a disk problem; ${advice}`,
    cause === undefined ? undefined : { cause },
  );
}

/** Decodes stored text; a record that is not JSON or of the wrong shape throws `damaged`. */
export function decodeText<T>(text: string, decoder: Decoder<T>, what: string, location: string, advice: string): T {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    const reason = text.trim() === '' ? 'the record is empty' : `not valid JSON: ${(error as Error).message}`;
    throw damagedError(what, location, reason, advice, error);
  }
  try {
    return decoder(data);
  } catch (error) {
    throw damagedError(what, location, `valid JSON of the wrong shape: ${(error as Error).message}`, advice, error);
  }
}

/** The message of a read that failed, for a `damaged` list. */
export function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// ---- results

/** Checks a result before it is stored; returns its JSON text. */
export function resultText(result: StoredResult): string {
  assertRoleName(result?.role);
  assertSafeName('result id', result.resultId);
  if (!surelyStoredResult(result)) {
    const checked = storedResultSchema.safeParse(result);
    if (!checked.success) throw new TypeError(`Cannot save result ${result.resultId}: ${problemsOf(checked.error)}`);
  }
  return jsonText(`result ${result.resultId}`, result);
}

export function decodeResult(text: string, resultId: string, location: string): StoredResult {
  return decodeText(text, decodeStoredResult, `Result ${resultId}`, location, ADVICE.result);
}

/** The summary fields of a result, which backends keep beside the record so a listing never decodes it. */
export function summaryOf(result: StoredResult): ResultSummary {
  const status = result.envelope.status;
  return {
    resultId: result.resultId,
    role: result.role,
    task: result.task,
    status: typeof status === 'string' ? status : 'unknown',
    createdAt: result.createdAt,
  };
}

/** Checks a `limit` option. */
export function assertLimit(doing: string, limit: number | undefined): void {
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 0)) {
    throw new RangeError(`${doing}: limit must be a whole number >= 0, got ${limit}`);
  }
}

/** Checks a `since` option (an ISO time); returns it as epoch milliseconds. */
export function sinceMs(since: string | undefined): number | undefined {
  if (since === undefined) return undefined;
  const ms = Date.parse(since);
  if (Number.isNaN(ms)) throw new RangeError(`since must be an ISO time such as 2026-01-31T00:00:00Z; got "${since}"`);
  return ms;
}

/** Epoch milliseconds of a stored ISO time, for ordering by instant (offsets may differ); 0 when it does not parse. */
export function instantOf(iso: string): number {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? 0 : ms;
}

/** Sorts ISO times newest first; compares as instants when both parse (offsets may differ), else as text. */
export function compareTimesDesc(a: string, b: string): number {
  const ta = Date.parse(a);
  const tb = Date.parse(b);
  if (!Number.isNaN(ta) && !Number.isNaN(tb) && ta !== tb) return tb - ta;
  return a < b ? 1 : a > b ? -1 : 0;
}

// ---- registry

/** Checks an entry before it is stored (and that an update kept its id); returns its JSON text. */
export function entryText(entry: RegistryEntry, expectedId?: string): string {
  if (!surelyRegistryEntry(entry)) {
    const checked = registryEntrySchema.safeParse(entry);
    if (!checked.success) {
      throw new StorageError(
        'invalid-name',
        `Refusing to store registry entry ${String(entry?.id)}: ${problemsOf(checked.error)}`,
      );
    }
  }
  assertSafeName('registry entry id', entry.id);
  if (expectedId !== undefined && entry.id !== expectedId) {
    throw new StorageError('conflict', `A registry update must not change the id (${expectedId} became ${entry.id})`);
  }
  return jsonText(`registry entry ${entry.id}`, entry);
}

export function decodeEntry(text: string, id: string, location: string): RegistryEntry {
  return decodeText(text, decodeRegistryEntry, `Registry entry ${id}`, location, ADVICE.entry);
}

/** Decodes an entry for a scan: a damaged one is added to `damaged` and read as absent. */
export function entryOrReport(
  text: string,
  id: string,
  location: string,
  damaged: DamagedRecord[],
): RegistryEntry | null {
  try {
    return decodeEntry(text, id, location);
  } catch (error) {
    damaged.push({ kind: 'entry', id, path: location, reason: reasonOf(error) });
    return null;
  }
}

/** Newest first by creation, then by id: the order of {@link RegistryStore.list}. */
export function compareEntriesNewest(a: RegistryEntry, b: RegistryEntry): number {
  return compareTimesDesc(a.provenance.createdAt, b.provenance.createdAt) || (a.id < b.id ? -1 : 1);
}

/** The words of a search text, lower-case (letters and digits). */
export function searchTerms(text: string): string[] {
  return [
    ...new Set(
      text
        .toLowerCase()
        .normalize('NFC')
        .match(/[\p{L}\p{N}_]+/gu) ?? [],
    ),
  ];
}

/**
 * Entries that match any of `terms` as the start of a word of their task, role, capabilities or code, most terms
 * matched first (a stable sort: ties keep the order given, e.g. a full-text rank).
 */
export function rankBySearchTerms(entries: RegistryEntry[], terms: string[]): RegistryEntry[] {
  return entries
    .map((entry) => {
      const words = searchTerms([entry.task, entry.role, ...entry.capabilities, entry.code].join(' '));
      return { entry, score: terms.filter((t) => words.some((w) => w.startsWith(t))).length };
    })
    .filter((s) => s.score > 0)
    .sort((a, b) => b.score - a.score)
    .map((s) => s.entry);
}

// ---- workflows

export function headerText(header: WorkflowHeader): string {
  const checked = workflowHeaderSchema.safeParse(header);
  if (!checked.success)
    throw new TypeError(
      `Cannot save the header of workflow ${String(header?.workflowId)}: ${problemsOf(checked.error)}`,
    );
  return jsonText(`the header of workflow ${header.workflowId}`, header);
}

export function stepText(workflowId: string, step: StepRecord): string {
  assertSafeName('step id', step?.stepId);
  if (!surelyStepRecord(step)) {
    const checked = stepRecordSchema.safeParse(step);
    if (!checked.success)
      throw new TypeError(`Cannot save step ${step.stepId} of workflow ${workflowId}: ${problemsOf(checked.error)}`);
  }
  return jsonText(`step ${step.stepId} of workflow ${workflowId}`, step);
}

export function decodeHeader(text: string, workflowId: string, location: string): WorkflowHeader {
  return decodeText(text, decodeWorkflowHeader, `The header of workflow ${workflowId}`, location, ADVICE.header);
}

export function decodeStep(text: string, workflowId: string, stepId: string, location: string): StepRecord {
  return decodeText(text, decodeStepRecord, `Step ${stepId} of workflow ${workflowId}`, location, ADVICE.step);
}
