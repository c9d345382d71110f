/**
 * What the model is told when its reply holds no usable JavaScript: shown in the repair prompt, so each says what
 * was wrong and what to answer instead.
 */
import { tagMap } from './classify.js';
import type { Block } from './types.js';

export const ASK = 'Answer with one ```javascript block that sets `result`.';
export const JS_ONLY = '(the sandbox runs JavaScript/TypeScript only)';
export const PYTHON_WARNING = `This is Python; write JavaScript ${JS_ONLY}.`;

export const UNFINISHED_REASONING = `The reply stopped inside its reasoning (<think>) and contained no code. ${ASK}`;

export function noCodeReason(blocks: Block[]): string {
  const kinds = new Set(blocks.map((b) => b.kind));
  if (kinds.has('shell')) {
    return (
      'The reply contained only shell commands, not a program; nothing can be installed or run from a shell. ' + ASK
    );
  }
  if (kinds.has('output')) {
    return 'The reply contained only data or output (JSON, text), not a program that computes it. ' + ASK;
  }
  if (kinds.has('empty')) return `The reply's code block was empty. ${ASK}`;
  return `The reply contained no code. ${ASK}`;
}

/** Names of the languages models answer in instead, by fence tag. */
const LANGUAGE_NAMES = tagMap<string>({
  SQL: ['sql'],
  Go: ['go', 'golang'],
  Java: ['java'],
  Ruby: ['ruby', 'rb'],
  Rust: ['rust', 'rs'],
  C: ['c'],
  'C++': ['cpp', 'c++'],
  'C#': ['csharp', 'cs'],
  PHP: ['php'],
  HTML: ['html'],
  Kotlin: ['kotlin'],
  Swift: ['swift'],
  R: ['r'],
  YAML: ['yaml', 'yml'],
  XML: ['xml'],
  Lua: ['lua'],
  Perl: ['perl'],
  Scala: ['scala'],
});

export function otherLanguageWarning(tag: string): string {
  if (tag === 'diff' || tag === 'patch')
    return `This is a diff; answer with the whole program in JavaScript ${JS_ONLY}.`;
  return `This is ${LANGUAGE_NAMES.get(tag) ?? `\`${tag}\` code`}, not JavaScript; write JavaScript ${JS_ONLY}.`;
}
