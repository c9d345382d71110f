/** Picks the program among the fenced blocks: the best-scoring JavaScript block plus the definitions it uses. */
import { withDefinitions } from './definitions.js';
import { otherLanguageWarning, PYTHON_WARNING } from './messages.js';
import { score } from './score.js';
import type { Block, ExtractedCode } from './types.js';

export function pickFromBlocks(blocks: Block[]): ExtractedCode | null {
  const programs = blocks.filter((b) => b.kind === 'js' || b.kind === 'ts');
  if (programs.length > 0) {
    let best: Block | undefined;
    let bestScore = -Infinity;
    let bestWhy: string[] = [];
    for (const b of programs) {
      const why: string[] = [];
      const s = score(b, why);
      // Ties go to the earlier block: the first complete answer, later ones are variants or examples.
      if (s > bestScore) [best, bestScore, bestWhy] = [b, s, why];
    }
    if (!best) return null;
    const used = withDefinitions(best, programs);
    const code = used.map((b) => b.code).join('\n\n');
    const ts = used.some((b) => b.kind === 'ts');
    let note = `fenced block ${best.n} of ${blocks.length} (${best.tag || 'untagged'})`;
    if (bestWhy.length > 0) note += `: ${bestWhy.join(', ')}`;
    const helpers = used.filter((b) => b !== best).map((b) => b.n);
    if (helpers.length > 0)
      note += `; prepended block${helpers.length > 1 ? 's' : ''} ${helpers.join(', ')} (definitions it uses)`;
    return {
      ok: true,
      code,
      language: ts ? 'typescript' : 'javascript',
      fenced: true,
      blocks: blocks.length,
      note,
      warning: null,
    };
  }
  // No JavaScript at all: hand back the wrong-language code so that it fails as a syntax error and the
  // repair prompt can say why. The longest block is the likeliest program.
  for (const kind of ['python', 'other'] as const) {
    const candidates = blocks.filter((b) => b.kind === kind);
    const b = candidates.reduce<Block | undefined>((a, c) => (!a || c.code.length > a.code.length ? c : a), undefined);
    if (!b) continue;
    const warning = kind === 'python' ? PYTHON_WARNING : otherLanguageWarning(b.tag);
    const note = `fenced block ${b.n} of ${blocks.length} (${b.tag || 'untagged'}): no JavaScript block, ${kind} code`;
    return { ok: true, code: b.code, language: kind, fenced: true, blocks: blocks.length, note, warning };
  }
  return null;
}
