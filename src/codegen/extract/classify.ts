/** Decides what a fenced block holds from its tag and its content: models mislabel, so the content has a say. */
import { isJsCodeLine } from './code-lines.js';
import { JS_ONLY_LINE, looksLikeJson, looksLikePython, looksLikeShell, looksLikeTypeScript } from './language.js';
import { analyze, strip } from './scan.js';
import type { Kind } from './types.js';

const TAG_KINDS: Record<string, Kind> = {
  js: 'js', javascript: 'js', jsx: 'js', mjs: 'js', cjs: 'js', node: 'js', nodejs: 'js', es6: 'js', ecmascript: 'js',
  ts: 'ts', typescript: 'ts', tsx: 'ts', mts: 'ts', cts: 'ts',
  python: 'python', py: 'python', python3: 'python', py3: 'python', ipython: 'python',
  bash: 'shell', sh: 'shell', shell: 'shell', zsh: 'shell', console: 'shell', terminal: 'shell', powershell: 'shell',
  ps1: 'shell', cmd: 'shell', bat: 'shell', shellsession: 'shell',
  json: 'output', jsonc: 'output', json5: 'output', output: 'output', log: 'output', csv: 'output',
};
/** Tags that say nothing: the content decides. */
const NEUTRAL_TAGS = new Set(['', 'text', 'txt', 'plaintext', 'plain', 'code']);

export function classify(tag: string, code: string): Kind {
  if (code === '') return 'empty';
  let tagged = NEUTRAL_TAGS.has(tag) ? undefined : TAG_KINDS[tag] ?? 'other';
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
