/**
 * Gets the program out of a model's reply.
 *
 * Models are asked for one ```javascript block, but real replies add prose around it, use other fence tags
 * (`js`, `ts`, `tsx`, `node`, none, `~~~`, attributes), indent fences inside lists, forget the closing fence,
 * write no fence at all, split the program over several blocks, add usage examples, shell commands and
 * expected output, or answer in Python. This module picks the block that is the program (plus the blocks
 * defining what it uses) and says, when it is not JavaScript, what to tell the model in the repair prompt.
 *
 * Everything here is heuristic and synchronous; nothing is parsed for real. A wrong pick is not fatal: the
 * code still goes through `compileProgram` and the repair loop, which shows the model what went wrong.
 */
import { pickFromBlocks } from './extract/choose.js';
import { findBlocks } from './extract/fences.js';
import { noCodeReason, UNFINISHED_REASONING } from './extract/messages.js';
import { dropReasoning, normalizeReply, unwrapInlineCode } from './extract/reply.js';
import type { ExtractedCode, NoCode } from './extract/types.js';
import { fromUnfenced } from './extract/unfenced.js';

export type { CodeLanguage, ExtractedCode, NoCode } from './extract/types.js';

export function extractCode(reply: string): ExtractedCode | NoCode {
  const text = dropReasoning(normalizeReply(reply));
  if (text === null) return { ok: false, reason: UNFINISHED_REASONING };
  const { blocks, outside } = findBlocks(text);
  const fromBlocks = pickFromBlocks(blocks);
  if (fromBlocks) return fromBlocks;

  // No usable fenced block: the code may be unfenced, around fences that only hold output or commands.
  const unfenced = fromUnfenced(blocks.length === 0 ? unwrapInlineCode(text) : outside.join('\n'));
  if (unfenced) return { ...unfenced, blocks: blocks.length };
  return { ok: false, reason: noCodeReason(blocks) };
}
