/** Finds the fenced blocks of a reply (CommonMark-like: backticks or tildes, any indentation, any info string). */
import { classify } from './classify.js';
import { dedent, lastLines, trimBlankLines } from './text.js';
import type { Block } from './types.js';

/** An opening fence: up to any indentation (fences inside list items), 3+ backticks or tildes, info string. */
const FENCE_OPEN = /^([ \t]*)(`{3,}|~{3,})[ \t]*(.*)$/;

export function findBlocks(text: string): { blocks: Block[]; outside: string[] } {
  const lines = text.split('\n');
  const blocks: Block[] = [];
  const outside: string[] = [];
  let prose: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const open = FENCE_OPEN.exec(line);
    // CommonMark: a backtick fence's info string cannot contain backticks (else it is inline code).
    if (!open || (open[2]?.startsWith('`') && open[3]?.includes('`'))) {
      prose.push(line);
      outside.push(line);
      continue;
    }
    const indent = open[1] ?? '';
    const fence = open[2] ?? '```';
    const body: string[] = [];
    // An unclosed fence (the model stopped or forgot it) runs to the end of the reply.
    for (i++; i < lines.length && !closes(lines[i] ?? '', fence); i++) body.push(dedent(lines[i] ?? '', indent.length));
    const tag = fenceTag(open[3] ?? '');
    const code = trimBlankLines(body.join('\n'));
    blocks.push({ n: blocks.length + 1, tag, kind: classify(tag, code), code, intro: lastLines(prose, 2) });
    prose = [];
  }
  return { blocks, outside };
}

function closes(line: string, fence: string): boolean {
  const m = /^[ \t]*(`{3,}|~{3,})[ \t]*$/.exec(line);
  return !!m?.[1] && m[1][0] === fence[0] && m[1].length >= fence.length;
}

/** `js title="x.js"`, `js:main.js`, `{.javascript}`, `language-ts`, `JavaScript {1,3}` → the language word. */
export function fenceTag(info: string): string {
  const unbraced = info.trim().replace(/^\{?\s*\.?/, '');
  const word = unbraced.split(/[\s{}:,;]/)[0] ?? '';
  return word.toLowerCase().replace(/^language-/, '');
}
