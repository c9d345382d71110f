/**
 * The step ids of a workflow, on their own key (`wf.<wf>.steps`, a JSON array), so `load` reads exactly the step
 * keys it needs instead of listing the bucket. A listing is not safe for that: JetStream's key listing reads each
 * key's last message through a consumer, and a key rewritten while the consumer runs (a step record being saved by
 * the node running it) can be left out, which would make a finished step look unrun. An id is added by
 * compare-and-set before its step's first record is written, so a record is never unlisted; the index is read
 * beside the fence's lease read, so a save costs no extra round trip once its id is in.
 */
import { StorageError } from '../errors.js';
import { isCasRefusal } from './failures.js';
import { backoff, CAS_TRIES } from './retry.js';
import type { KvTexts } from './texts.js';

/** What the index key holds: the ids, none (no key), or text that is not a list of ids. */
export type StepIndexRead =
  | { revision: number; ids: string[]; problem?: undefined }
  | { revision: number; ids?: undefined; problem: string }
  | null;

export async function readStepIndex(texts: KvTexts, key: string): Promise<StepIndexRead> {
  const read = await texts.read(key);
  if (read === null) return null;
  if (read.problem !== undefined) return { revision: read.revision, problem: read.problem };
  try {
    const ids: unknown = JSON.parse(read.text);
    if (Array.isArray(ids) && ids.every((id) => typeof id === 'string')) return { revision: read.revision, ids };
    return { revision: read.revision, problem: 'not a list of step ids' };
  } catch (error) {
    return { revision: read.revision, problem: `not valid JSON: ${(error as Error).message}` };
  }
}

/**
 * Adds `stepId` to the index at `key`, starting from `known` (the index as last read). An index that cannot be
 * read is rebuilt from `listed()` (the step ids a key listing finds) plus this id.
 */
export async function addToStepIndex(
  texts: KvTexts,
  key: string,
  stepId: string,
  known: StepIndexRead,
  listed: () => Promise<string[]>,
): Promise<void> {
  let read = known;
  for (let attempt = 1; attempt <= CAS_TRIES; attempt++) {
    if (read?.ids?.includes(stepId)) return;
    const ids = read === null ? [] : (read.ids ?? (await listed()));
    const text = JSON.stringify([...new Set([...ids, stepId])]);
    try {
      await texts.write(key, text, read === null ? { kind: 'create' } : { kind: 'update', revision: read.revision });
      return;
    } catch (error) {
      if (!isCasRefusal(error)) throw error;
      await backoff(attempt);
      read = await readStepIndex(texts, key);
    }
  }
  throw new StorageError(
    'conflict',
    `Could not add step ${stepId} to the step list ${key}: it changed under each of ${CAS_TRIES} tries (steps of `
      + 'this workflow were being saved at the same moment); try again.',
  );
}
