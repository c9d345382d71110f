/** Takes the code out of a reply, or the part of one, that has no code fence. */
import { isJsCodeLine, isProse, isPythonCodeLine } from './code-lines.js';
import { looksLikePython, looksLikeTypeScript } from './language.js';
import { PYTHON_WARNING } from './messages.js';
import { newScanState, scanLine, strip } from './scan.js';
import { dedentAll, trimBlankLines } from './text.js';
import type { ExtractedCode } from './types.js';

/**
 * The reply has no code fence: it is all code, or code with a sentence or two around it. Keeps the code
 * lines, drops the prose. Lines inside brackets, template literals and block comments are always kept, so
 * prose-like text in a multi-line string or a JSDoc comment survives.
 */
export function fromUnfenced(text: string): Omit<ExtractedCode, 'blocks'> | null {
  const lines = text.split('\n');
  if (looksLikePython(text)) {
    const first = lines.findIndex(isPythonCodeLine);
    const last = lines.findLastIndex(isPythonCodeLine);
    if (first < 0) return null;
    const code = trimBlankLines(lines.slice(first, last + 1).join('\n'));
    const note = 'unfenced python code';
    return { ok: true, code, language: 'python', fenced: false, note, warning: PYTHON_WARNING };
  }
  const state = newScanState();
  const kinds: Array<'code' | 'blank' | 'prose' | 'weak'> = lines.map((line) => {
    const t = line.trim();
    const inside = state.stack.length > 0 || state.comment;
    if (!inside && t === '') return 'blank';
    if (inside || isJsCodeLine(t)) {
      scanLine(line, state); // only code moves the bracket state: prose like "1) first" must not open a paren
      return 'code';
    }
    return isProse(t) ? 'prose' : 'weak';
  });
  const first = kinds.indexOf('code');
  const last = kinds.lastIndexOf('code');
  if (first < 0) return null;
  // Between the first and last code lines, only clear prose is dropped: a line the heuristics do not
  // recognize as code (`total`, `a + b`) is more likely code than a sentence.
  const keep = kinds.map((k, i) => i >= first && i <= last && k !== 'prose');
  const code = dedentAll(trimBlankLines(lines.filter((_, i) => keep[i]).join('\n')));
  if (code === '') return null;
  const dropped = kinds.filter((k, i) => !keep[i] && k !== 'blank').length;
  const language = looksLikeTypeScript(strip(code)) ? 'typescript' : 'javascript';
  const note = `unfenced code${dropped > 0 ? ` (${dropped} prose line${dropped > 1 ? 's' : ''} dropped)` : ''}`;
  return { ok: true, code, language, fenced: false, note, warning: null };
}
