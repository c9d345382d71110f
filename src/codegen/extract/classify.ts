/** Decides what a fenced block holds from its tag and its content: models mislabel, so the content has a say. */
import { isJsCodeLine } from './code-lines.js';
import { JS_ONLY_LINE, looksLikeJson, looksLikePython, looksLikeShell, looksLikeTypeScript } from './language.js';
import { analyze, strip } from './scan.js';
import type { Kind } from './types.js';

/** Fence tags by what they say a block holds; any other tag that is not neutral is another language. */
const TAG_KINDS = tagMap<Kind>({
  js: ['js', 'javascript', 'jsx', 'mjs', 'cjs', 'node', 'nodejs', 'es6', 'ecmascript'],
  ts: ['ts', 'typescript', 'tsx', 'mts', 'cts'],
  python: ['python', 'py', 'python3', 'py3', 'ipython'],
  shell: ['bash', 'sh', 'shell', 'zsh', 'console', 'terminal', 'powershell', 'ps1', 'cmd', 'bat', 'shellsession'],
  output: ['json', 'jsonc', 'json5', 'output', 'log', 'csv'],
});
/** Tags that say nothing: the content decides. */
const NEUTRAL_TAGS = new Set(['', 'text', 'txt', 'plaintext', 'plain', 'code']);

export function classify(tag: string, code: string): Kind {
  if (code === '') return 'empty';
  let tagged = NEUTRAL_TAGS.has(tag) ? undefined : (TAG_KINDS.get(tag) ?? 'other');
  // Models mislabel: JavaScript under a python tag is still JavaScript...
  if (tagged === 'python' && !looksLikePython(code) && code.split('\n').some((l) => JS_ONLY_LINE.test(l))) {
    tagged = undefined;
  }
  if (tagged !== undefined && tagged !== 'js' && tagged !== 'ts') return tagged;
  // ...and JSON or Python under a js tag is still data or Python.
  if (looksLikeJson(code)) return 'output';
  if (looksLikePython(code)) return 'python';
  if (tagged === undefined) {
    if (looksLikeShell(code)) return 'shell';
    if (!analyze(code).some((l) => l.top && isJsCodeLine(l.text.trim()))) return 'output';
  }
  if (tagged === 'ts' || looksLikeTypeScript(strip(code))) return 'ts';
  return 'js';
}

/**
 * Turns `{ value: [tag, ...] }` into a tag → value lookup. A Map, not an object: a model's fence tag can be any word,
 * and `constructor` or `__proto__` must not find Object.prototype's members.
 */
export function tagMap<V extends string>(tagsByValue: { [value in V]?: string[] }): Map<string, V> {
  const entries = Object.entries(tagsByValue) as Array<[V, string[]]>;
  return new Map(entries.flatMap(([value, tags]) => tags.map((tag): [string, V] => [tag, value])));
}
