/** Resolves which other program blocks define the names the chosen block uses. */
import { analyze } from './scan.js';
import type { Block } from './types.js';

/** What dependency resolution needs to know about a block, computed once per block. */
interface Shape {
  /** Names declared at top level; `result` and `context` belong to the sandbox, not to a block. */
  declares: string[];
  /** Identifiers mentioned other than as property names (`a.b` mentions a, not b). */
  mentions: Set<string>;
  returns: boolean;
}

const shapes = new WeakMap<Block, Shape>();

function shapeOf(block: Block): Shape {
  const known = shapes.get(block);
  if (known) return known;
  const lines = analyze(block.code);
  const declares: string[] = [];
  for (const l of lines.filter((x) => x.top)) {
    const decl =
      /^\s*(?:export\s+(?:default\s+)?)?(?:async\s+)?function\s*\*?\s*([\w$]+)/.exec(l.stripped)
      ?? /^\s*(?:export\s+)?(?:abstract\s+)?(?:class|interface|enum|type)\s+([\w$]+)/.exec(l.stripped);
    if (decl?.[1]) declares.push(decl[1]);
    const binding = /^\s*(?:export\s+)?(?:const|let|var)\s+([\w$]+|\{[^}]*\}|\[[^\]]*\])/.exec(l.stripped)?.[1];
    // Destructuring: keep the bound names, not the property keys (`{ a: b }` binds b).
    if (binding) declares.push(...(binding.replace(/[\w$]+\s*:/g, '').match(/[A-Za-z_$][\w$]*/g) ?? []));
  }
  const mentions = new Set<string>();
  const stripped = lines.map((l) => l.stripped).join('\n');
  for (const m of stripped.matchAll(/(\.*)([A-Za-z_$][\w$]*)/g)) {
    if (m[1] !== '.' && m[2]) mentions.add(m[2]);
  }
  const shape = {
    declares: declares.filter((n) => n !== 'result' && n !== 'context'),
    mentions,
    returns: lines.some((l) => l.top && /^\s*return\b/.test(l.stripped)),
  };
  shapes.set(block, shape);
  return shape;
}

/**
 * The chosen block plus the other program blocks defining names it uses and does not define itself
 * (a helper in block 1, `result = helper(10)` in block 2), transitively, in reply order. A block that
 * would redeclare a name already present, or returns at top level (it would end the program early), is
 * left out. Later blocks are tried first, so a revised definition wins over the draft it replaces.
 */
export function withDefinitions(chosen: Block, programs: Block[]): Block[] {
  const used = new Set([chosen]);
  const declared = new Set(shapeOf(chosen).declares);
  const needed = new Set(shapeOf(chosen).mentions);
  let grew = true;
  while (grew) {
    grew = false;
    for (const b of [...programs].reverse()) {
      const { declares, mentions, returns } = shapeOf(b);
      if (used.has(b) || returns || !declares.some((n) => needed.has(n) && !declared.has(n))) continue;
      if (declares.some((n) => declared.has(n))) continue;
      used.add(b);
      for (const n of declares) declared.add(n);
      for (const n of mentions) needed.add(n);
      grew = true;
    }
  }
  return [...used].sort((x, y) => x.n - y.n);
}
