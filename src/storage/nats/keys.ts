/**
 * The key layout of the two KV buckets. KV keys allow only `[-/_=.A-Za-z0-9]` and `.` separates tokens, while
 * workflow ids, step ids and registry ids may contain `.`: every id is written as one token by {@link keyToken}, so
 * `wf "a.b" step "c"` and `wf "a" step "b.c"` are different keys and a prefix never reaches another id's keys.
 *
 *   automesh-registry   entry.<id>                 the entry's JSON (or a parts manifest, see ./texts.ts)
 *                       entry.<id>.part.<v>.<n>    part n of version v of a large entry
 *                       task.<taskKey>.<id>        index reference: entry <id> is filed under <taskKey>
 *   automesh-workflows  lease.<wf>                 the owner lease ({ lease, released }), the fencing token
 *                       wf.<wf>.header             the header's JSON
 *                       wf.<wf>.steps              the step ids (JSON array), see ./step-index.ts
 *                       wf.<wf>.step.<step>        one step's JSON
 *                       wf.<wf>.<...>.part.<v>.<n> parts of a large header or step
 */

export const REGISTRY_BUCKET = 'automesh-registry';
export const WORKFLOWS_BUCKET = 'automesh-workflows';

const PLAIN = /[A-Za-z0-9_-]/;
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * One key token for any text: letters, digits, `_` and `-` stay; every other UTF-8 byte becomes `=XX` (upper-case
 * hex). `=` itself is escaped, so the mapping is one-to-one and reversible, and the token never holds a `.`.
 */
export function keyToken(value: string): string {
  let token = '';
  for (const char of value) {
    if (PLAIN.test(char)) {
      token += char;
      continue;
    }
    for (const byte of encoder.encode(char)) token += `=${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return token;
}

/** The text of a {@link keyToken}; null when `token` is not one (a key someone else wrote). */
export function fromKeyToken(token: string): string | null {
  if (!/^(?:[A-Za-z0-9_-]|=[0-9A-F]{2})+$/.test(token)) return null;
  const bytes: number[] = [];
  for (let i = 0; i < token.length; ) {
    if (token[i] === '=') {
      bytes.push(Number.parseInt(token.slice(i + 1, i + 3), 16));
      i += 3;
    } else {
      bytes.push(token.charCodeAt(i));
      i += 1;
    }
  }
  try {
    return decoder.decode(new Uint8Array(bytes));
  } catch {
    return null;
  }
}

export const entryKey = (id: string): string => `entry.${keyToken(id)}`;
export const taskIndexPrefix = (taskKey: string): string => `task.${taskKey}.`;
export const taskIndexKey = (taskKey: string, id: string): string => `${taskIndexPrefix(taskKey)}${keyToken(id)}`;

export const leaseKey = (workflowId: string): string => `lease.${keyToken(workflowId)}`;
export const workflowPrefix = (workflowId: string): string => `wf.${keyToken(workflowId)}.`;
export const headerKey = (workflowId: string): string => `${workflowPrefix(workflowId)}header`;
export const stepIndexKey = (workflowId: string): string => `${workflowPrefix(workflowId)}steps`;
export const stepKey = (workflowId: string, stepId: string): string =>
  `${workflowPrefix(workflowId)}step.${keyToken(stepId)}`;

/** What a key of the registry bucket is. */
export type RegistryKey =
  | { kind: 'entry'; id: string }
  | { kind: 'index'; taskKey: string; id: string }
  | { kind: 'other' };

export function parseRegistryKey(key: string): RegistryKey {
  const tokens = key.split('.');
  if (tokens.length === 2 && tokens[0] === 'entry') {
    const id = fromKeyToken(tokens[1] as string);
    if (id !== null) return { kind: 'entry', id };
  }
  if (tokens.length === 3 && tokens[0] === 'task') {
    const id = fromKeyToken(tokens[2] as string);
    if (id !== null) return { kind: 'index', taskKey: tokens[1] as string, id };
  }
  return { kind: 'other' };
}

/** The workflow id of a header key (`wf.<wf>.header`); null for any other key. */
export function parseWorkflowHeaderKey(key: string): string | null {
  const tokens = key.split('.');
  return tokens.length === 3 && tokens[0] === 'wf' && tokens[2] === 'header' ? fromKeyToken(tokens[1] as string) : null;
}

/** What a key under {@link workflowPrefix} is: the header, a step, or something else (parts). */
export function parseWorkflowKey(
  key: string,
): { kind: 'header' } | { kind: 'step'; stepId: string } | { kind: 'other' } {
  const tokens = key.split('.');
  if (tokens.length === 3 && tokens[2] === 'header') return { kind: 'header' };
  if (tokens.length === 4 && tokens[2] === 'step') {
    const stepId = fromKeyToken(tokens[3] as string);
    if (stepId !== null) return { kind: 'step', stepId };
  }
  return { kind: 'other' };
}
