/**
 * What makes two tasks "the same" for code reuse: the role, the task text up to trivial differences, and what the
 * code depends on (system prompt, context shape, tools, output schema: see `dependencies.ts`); a change to any of
 * them can change what the code must do, so it gets new code.
 */
import { createHash } from 'node:crypto';

// Sentence-ending punctuation only: closing brackets and quotes can carry meaning (`f("x")`), a final period cannot.
const TRAILING = new Set([...' .,;:!?…。．，；：！？']);

/**
 * Normalizes a task for matching: Unicode NFC, lower case, runs of whitespace collapsed to one space, trimmed, and
 * trailing sentence punctuation dropped. "Calculate  the factorial of 10." → "calculate the factorial of 10".
 */
export function normalizeTask(task: string): string {
  const collapsed = task.normalize('NFC').toLowerCase().normalize('NFC').replace(/\s+/gu, ' ').trim();
  // A loop from the end rather than a `[…]+$` regex, which backtracks quadratically on long punctuation runs.
  let end = collapsed.length;
  while (end > 0 && TRAILING.has(collapsed[end - 1] as string)) end--;
  return collapsed.slice(0, end);
}

/**
 * The registry key of a task: sha256 (hex) of role, normalized task and the dependency hash (`dependencyHash()`),
 * separated by NUL so that no two different triples produce the same input.
 */
export function taskKey(role: string, task: string, dependencyHash: string): string {
  return createHash('sha256')
    .update(`${role}\0${normalizeTask(task)}\0${dependencyHash}`)
    .digest('hex');
}

/**
 * Content-hash id of an entry: `fn_` + 16 hex digits of sha256(taskKey + '\n' + code). The same code registered
 * twice for the same task is one entry (its success count grows) instead of a duplicate.
 */
export function functionId(key: string, code: string): string {
  return `fn_${createHash('sha256').update(`${key}\n${code}`).digest('hex').slice(0, 16)}`;
}

/** sha256 hex of a text, e.g. of a system prompt for {@link taskKey}. */
export function hashText(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
