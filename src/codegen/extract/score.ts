/** How likely a fenced block is the program rather than a usage example, its output or the code being criticised. */
import { analyze } from './scan.js';
import type { Block } from './types.js';

/** Intros of blocks that show how to call or test the program, or what it prints: not the program. */
const USAGE_INTRO = new RegExp(
  [
    /example usage|usage example|\busage\b[^a-z]*$|^\W*examples?\W*$|for example/,
    /\boutput\b[^a-z]*$|(?:expected|sample|example) output|\bprints?\b[^a-z]*$|\blog(?:s|ging)? (?:it|the result)/,
    /you can (?:test|call|use|run|try)|\bto test\b|\btest (?:it|this)|how to (?:use|call|run)|calling (?:it|this)/,
    /\bto run (?:it|this)|\binstall\b/,
  ]
    .map((re) => re.source)
    .join('|'),
  'im',
);
/** Intros of a repaired or final version: preferred over earlier drafts. */
const FIXED_INTRO =
  /\b(?:correct(?:ed)?|fix(?:ed)?|updated|revised|final|complete|full|improved|together|better|actually|instead)\b/i;
/** Intros of the code being criticised (a repair reply quoting the failing line). */
const BAD_INTRO =
  /\b(?:original|wrong|incorrect|buggy|broken|failing|problematic)\b|\byour code\b|\b(?:this|the) line\b/i;

const SETS_RESULT = /(?:^|[^\w$.])result\s*(?:=(?!=)|[-+*/]=)|\b(?:let|const|var)\s+result\b/;

/** Higher is more likely the program. Reasons are appended to `why` for the note. */
export function score(block: Block, why: string[]): number {
  const lines = analyze(block.code);
  const stripped = lines.map((l) => l.stripped).join('\n');
  let s = 0;
  if (lines.some((l) => l.top && SETS_RESULT.test(l.stripped))) {
    s += 10;
    why.push('sets result');
  } else if (SETS_RESULT.test(stripped)) {
    s += 6; // `result` assigned inside an if/for at top level, or a helper's local `result`
    why.push('assigns result');
  }
  if (lines.some((l) => l.top && /^\s*return\b/.test(l.stripped))) {
    s += 8;
    why.push('returns at top level');
  }
  if (/(?:^|[^\w$.])context\b/.test(stripped)) s += 3;
  if (/\bawait\b/.test(stripped)) s += 2;
  const codeLines = lines.filter((l) => l.stripped.trim() !== '');
  s += Math.min(codeLines.length, 30) / 10;
  if (codeLines.length > 0 && codeLines.every((l) => /^\s*(?:console\.\w+\(|[)}\]]|$)/.test(l.stripped))) {
    s -= 6;
    why.push('only console calls');
  }
  if (USAGE_INTRO.test(block.intro)) {
    s -= 8;
    why.push('introduced as usage/output');
  } else if (FIXED_INTRO.test(block.intro)) {
    s += 2;
    why.push('introduced as the fixed/final version');
  } else if (BAD_INTRO.test(block.intro)) {
    s -= 4;
    why.push('introduced as the faulty code');
  }
  return s;
}
