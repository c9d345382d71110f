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

export type CodeLanguage = 'javascript' | 'typescript' | 'python' | 'other';

export interface ExtractedCode {
  ok: true;
  /** The program: never empty. Several blocks are joined with a blank line, in reply order. */
  code: string;
  language: CodeLanguage;
  /** True when the code came from fenced blocks, false when it was taken from unfenced text. */
  fenced: boolean;
  /** Number of fenced code blocks in the reply (0 when it had none). */
  blocks: number;
  /** why this block (for logs) */
  note: string;
  /** set when the code looks like Python or another language, to be shown to the model in the repair prompt */
  warning: string | null;
}

export interface NoCode {
  ok: false;
  /** Says what was wrong and what to do; shown to the model in the repair prompt. */
  reason: string;
}

const ASK = 'Answer with one ```javascript block that sets `result`.';
const JS_ONLY = '(the sandbox runs JavaScript/TypeScript only)';
const PYTHON_WARNING = `This is Python; write JavaScript ${JS_ONLY}.`;

/** What a block holds. `output` is data or program output (JSON, text), `shell` is commands to type. */
type Kind = 'js' | 'ts' | 'python' | 'other' | 'shell' | 'output' | 'empty';

interface Block {
  /** 1-based position among the reply's fenced blocks. */
  n: number;
  /** The fence's language word, lower-cased ('' when untagged). */
  tag: string;
  kind: Kind;
  code: string;
  /** The last two non-empty prose lines before the block: "Example usage:", "Here is the fix:". */
  intro: string;
}

// ---------------------------------------------------------------------------------------------------------
// Entry point

export function extractCode(reply: string): ExtractedCode | NoCode {
  // CRLF and lone CR would otherwise end up inside the code and in every line-based regex below.
  const normalized = reply.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  const text = dropReasoning(normalized);
  if (text === null) {
    return { ok: false, reason: `The reply stopped inside its reasoning (<think>) and contained no code. ${ASK}` };
  }
  const { blocks, outside } = findBlocks(text);
  const fromBlocks = pickFromBlocks(blocks);
  if (fromBlocks) return fromBlocks;

  // No usable fenced block: the code may be unfenced, around fences that only hold output or commands.
  const unfenced = fromUnfenced(blocks.length === 0 ? unwrapInlineCode(text) : outside.join('\n'));
  if (unfenced) return { ...unfenced, blocks: blocks.length };
  return { ok: false, reason: noCodeReason(blocks) };
}

/**
 * Reasoning models served raw (Qwen3/DeepSeek-R1 on vLLM without a reasoning parser) put their thinking,
 * drafts included, in `<think>…</think>` before the answer; some chat templates open the tag in the prompt,
 * so only the closing tag is in the reply. Returns null when the reply never left its reasoning.
 */
function dropReasoning(text: string): string | null {
  const close = /<\/think(?:ing)?>/gi;
  let end = -1;
  for (let m = close.exec(text); m; m = close.exec(text)) end = m.index + m[0].length;
  if (end >= 0) return text.slice(end);
  if (/^\s*<think(?:ing)?>/i.test(text)) return null;
  return text;
}

/** A whole reply that is one inline code span (`result = 1 + 2`): small models do that for one-liners. */
function unwrapInlineCode(text: string): string {
  const m = /^\s*`([^`\n]+)`\s*$/.exec(text);
  return m?.[1] ?? text;
}

function noCodeReason(blocks: Block[]): string {
  const kinds = new Set(blocks.map((b) => b.kind));
  if (kinds.has('shell')) {
    return 'The reply contained only shell commands, not a program; nothing can be installed or run from a shell. '
      + ASK;
  }
  if (kinds.has('output')) {
    return 'The reply contained only data or output (JSON, text), not a program that computes it. ' + ASK;
  }
  if (kinds.has('empty')) return `The reply's code block was empty. ${ASK}`;
  return `The reply contained no code. ${ASK}`;
}

// ---------------------------------------------------------------------------------------------------------
// Fenced blocks

/** An opening fence: up to any indentation (fences inside list items), 3+ backticks or tildes, info string. */
const FENCE_OPEN = /^([ \t]*)(`{3,}|~{3,})[ \t]*(.*)$/;

function findBlocks(text: string): { blocks: Block[]; outside: string[] } {
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

/** Removes the fence's own indentation (a fence inside a list item indents its whole body). */
function dedent(line: string, width: number): string {
  let k = 0;
  while (k < width && (line[k] === ' ' || line[k] === '\t')) k++;
  return line.slice(k);
}

/** `js title="x.js"`, `js:main.js`, `{.javascript}`, `language-ts`, `JavaScript {1,3}` → the language word. */
function fenceTag(info: string): string {
  const word = info.trim().replace(/^\{?\s*\.?/, '').split(/[\s{}:,;]/)[0] ?? '';
  return word.toLowerCase().replace(/^language-/, '');
}

function trimBlankLines(code: string): string {
  return code.replace(/^(?:[ \t]*\n)+/, '').trimEnd();
}

function lastLines(lines: string[], count: number): string {
  return lines.filter((l) => l.trim() !== '').slice(-count).join('\n');
}

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

function classify(tag: string, code: string): Kind {
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

// ---------------------------------------------------------------------------------------------------------
// Choosing among blocks

/** Intros of blocks that show how to call or test the program, or what it prints: not the program. */
const USAGE_INTRO = new RegExp([
  /example usage|usage example|\busage\b[^a-z]*$|^\W*examples?\W*$|for example/,
  /\boutput\b[^a-z]*$|(?:expected|sample|example) output|\bprints?\b[^a-z]*$|\blog(?:s|ging)? (?:it|the result)/,
  /you can (?:test|call|use|run|try)|\bto test\b|\btest (?:it|this)|how to (?:use|call|run)|calling (?:it|this)/,
  /\bto run (?:it|this)|\binstall\b/,
].map((re) => re.source).join('|'), 'im');
/** Intros of a repaired or final version: preferred over earlier drafts. */
const FIXED_INTRO = /\b(?:correct(?:ed)?|fix(?:ed)?|updated|revised|final|complete|full|improved|together|better|actually|instead)\b/i;
/** Intros of the code being criticised (a repair reply quoting the failing line). */
const BAD_INTRO = /\b(?:original|wrong|incorrect|buggy|broken|failing|problematic)\b|\byour code\b|\b(?:this|the) line\b/i;

const SETS_RESULT = /(?:^|[^\w$.])result\s*(?:=(?!=)|[-+*/]=)|\b(?:let|const|var)\s+result\b/;

/** Higher is more likely the program. Reasons are appended to `why` for the note. */
function score(block: Block, why: string[]): number {
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

function pickFromBlocks(blocks: Block[]): ExtractedCode | null {
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
    if (helpers.length > 0) note += `; prepended block${helpers.length > 1 ? 's' : ''} ${helpers.join(', ')} (definitions it uses)`;
    return { ok: true, code, language: ts ? 'typescript' : 'javascript', fenced: true, blocks: blocks.length, note, warning: null };
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

const LANGUAGE_NAMES: Record<string, string> = {
  sql: 'SQL', go: 'Go', golang: 'Go', java: 'Java', ruby: 'Ruby', rb: 'Ruby', rust: 'Rust', rs: 'Rust', c: 'C',
  cpp: 'C++', 'c++': 'C++', csharp: 'C#', cs: 'C#', php: 'PHP', html: 'HTML', kotlin: 'Kotlin', swift: 'Swift',
  r: 'R', yaml: 'YAML', yml: 'YAML', xml: 'XML', lua: 'Lua', perl: 'Perl', scala: 'Scala',
};

function otherLanguageWarning(tag: string): string {
  if (tag === 'diff' || tag === 'patch') return `This is a diff; answer with the whole program in JavaScript ${JS_ONLY}.`;
  return `This is ${LANGUAGE_NAMES[tag] ?? `\`${tag}\` code`}, not JavaScript; write JavaScript ${JS_ONLY}.`;
}

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
  for (const m of lines.map((l) => l.stripped).join('\n').matchAll(/(\.*)([A-Za-z_$][\w$]*)/g)) {
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
function withDefinitions(chosen: Block, programs: Block[]): Block[] {
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

// ---------------------------------------------------------------------------------------------------------
// Unfenced code

/**
 * The reply has no code fence: it is all code, or code with a sentence or two around it. Keeps the code
 * lines, drops the prose. Lines inside brackets, template literals and block comments are always kept, so
 * prose-like text in a multi-line string or a JSDoc comment survives.
 */
function fromUnfenced(text: string): Omit<ExtractedCode, 'blocks'> | null {
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

/** Removes the indentation common to all lines: a markdown indented code block (4 spaces) is not the code's. */
function dedentAll(code: string): string {
  const widths = code.split('\n').filter((l) => l.trim() !== '').map((l) => /^[ \t]*/.exec(l)?.[0].length ?? 0);
  const width = Math.min(...widths);
  return width > 0 ? code.split('\n').map((l) => dedent(l, width)).join('\n') : code;
}

/** Patterns of a line (trimmed, at top level) that starts or ends like JavaScript rather than English. */
const JS_LINE: RegExp[] = [
  /^(?:const|let|var)\s+(?:[\w$]+\s*(?:[=:;,]|$)|[{[])/, // declarations, not "let me explain"
  /^(?:async\s+)?function\b/,
  /^(?:import|export)\s+[\w{*'"]/,
  /^(?:if|for|while|switch|catch|with)\s*\(/,
  /^(?:else|try|finally|do)\b\s*(?:\{|if\b|$)/,
  /^(?:return|throw)\b(?:\s|;|$)/,
  /^(?:await|yield|new|delete|typeof|void)\s/,
  /^(?:break|continue|debugger)\s*;?$/,
  /^(?:class|interface|enum|namespace)\s+[\w$]+/,
  /^type\s+[\w$]+\s*(?:<.*>)?\s*=/,
  /^(?:case\s.+|default\s*):/,
  /^(?:\/\/|\/\*|\*\/)/,
  /^[}\])]/,
  /^\.{1,3}[\w$]/, // chained call, spread
  /^(?:\?\?|\?|:|&&|\|\|)\s*\S/, // continued expression
  /^\(\s*(?:async\b|function\b|\(|\))/, // IIFE
  /^['"]use strict['"]/,
  /^[\w$]+(?:\??\.[\w$]+|\[[^\]]*\])*\s*(?:[-+*/%&|^]|\*\*|&&|\|\||\?\?)?=(?!=)/, // assignment
  /^[\w$]+(?:\??\.[\w$]+)*\(/, // call (no space before the paren: "Note (see above)" is prose)
  /^(?:\+\+|--)[\w$]|^[\w$]+(?:\+\+|--)/,
  /^\[[\w$,\s.]*\]\s*=(?!=)/, // [a, b] = ...
  /(?:;|\{|=>|\(|\[)\s*(?:\/\/.*)?$/, // ends like a statement or an opened block
];

function isJsCodeLine(t: string): boolean {
  if (t === '' || /^(?:#{1,6}\s|[-+*]\s|\d+[.)]\s|>|\*\*|__|!\[|\|)/.test(t)) return false; // markdown
  return JS_LINE.some((re) => re.test(t));
}

/**
 * Clearly a sentence or markdown, never code (given that it is not a code line): markdown, capitalized text,
 * words ending like a sentence ("then we sum:"), or four words with no operator or bracket.
 */
function isProse(t: string): boolean {
  if (/^(?:#{1,6}\s|[-+*]\s|\d+[.)]\s|>|\*\*|__|!\[|\|)/.test(t)) return true;
  if (/^[A-Z]/.test(t)) return true;
  const words = t.split(/\s+/).length;
  return (words >= 2 && /[.:!?]$/.test(t)) || (words >= 4 && !/[=+*/(){}[\];<>]/.test(t));
}

const PYTHON_CODE_LINE =
  /^(?:\s+\S|(?:def|class|import|from|return|print|if|elif|else|for|while|try|except|finally|with|raise|async|await|assert|pass|yield|lambda)\b|@\w|[\w$.[\]'"]+\s*[-+*/]?=|[\w.]+\(|[)\]}])/;

function isPythonCodeLine(line: string): boolean {
  return PYTHON_CODE_LINE.test(line);
}

// ---------------------------------------------------------------------------------------------------------
// Language detection

/** Lines only Python has: `def f(x):`, `import numpy as np`, `for x in xs:`, `elif`, `except`... */
const PYTHON_LINE =
  /^\s*(?:(?:async\s+)?def\s+\w+\s*\(.*\)\s*(?:->\s*[^:]+)?:|class\s+\w+(?:\(.*\))?:|(?:el)?if\s+.+:|else:|for\s+[\w, ()]+\s+in\s+.+:|while\s+.+:|try:|except\b.*:|finally:|with\s+.+:|from\s+[\w.]+\s+import\s+[\w*(]|import\s+[\w.]+(?:\s+as\s+\w+)?(?:\s*,\s*[\w.]+)*)\s*(?:#.*)?$/;
/** Lines only JavaScript has. */
const JS_ONLY_LINE = /;\s*$|^\s*(?:const|let|var|function)\s|=>|^\s*\}/;

function looksLikePython(code: string): boolean {
  let py = 0;
  let js = 0;
  for (const line of code.split('\n')) {
    if (PYTHON_LINE.test(line)) py++;
    else if (JS_ONLY_LINE.test(line)) js++;
  }
  return py > 0 && py >= js;
}

const SHELL_LINE =
  /^\s*(?:\$\s+\S|(?:npm|npx|yarn|pnpm|node|deno|bun|tsx|ts-node|pip3?|python3?|cd|ls|mkdir|curl|wget|git|chmod)\s+[\w@./"'=~-]|(?:npm|yarn|pnpm)\s*$|export\s+[A-Z_]+=)/;

function looksLikeShell(code: string): boolean {
  const lines = code.split('\n').filter((l) => l.trim() !== '' && !/^\s*#/.test(l));
  return lines.length > 0 && lines.every((l) => SHELL_LINE.test(l));
}

function looksLikeJson(code: string): boolean {
  if (!/^[[{]/.test(code.trim())) return false;
  try {
    JSON.parse(code);
    return true;
  } catch {
    return false;
  }
}

/**
 * Type annotations, interfaces, casts: run on code whose strings and comments are blanked out. Look-aheads
 * are bounded (`{0,80}`) so that a degenerate reply (a model stuck repeating `):`) stays linear.
 */
const TS_PATTERNS: RegExp[] = [
  /^\s*(?:export\s+)?(?:interface|enum)\s+[A-Za-z_$][\w$]*/m,
  /^\s*(?:export\s+)?type\s+[A-Za-z_$][\w$]*\s*(?:<[^>]*>)?\s*=/m,
  /\b(?:const|let|var)\s+[\w$]+\s*:\s*[\w$[{('"]/, // const x: number
  /[(,]\s*[\w$]+\??\s*:\s*(?:string|number|boolean|any|unknown|object|(?:Record|Array|Promise|Map|Set|Partial)<)/, // (a: number)
  /\)\s*:\s*(?:string|number|boolean|void|any|unknown|never|Promise<|Record<|Array<|[A-Z][\w$]*(?:\[\])?)[^;{=\n]{0,80}(?:\{|=>)/, // return type
  /[\w$)\]]\s+as\s+(?:const|string|number|boolean|any|unknown|[A-Z][\w$]*)\b/, // cast
  /\b(?:private|public|protected|readonly)\s+[\w$]+\s*[:;=(?]/,
  /\b[\w$]+<(?:string|number|boolean|any|unknown|[A-Z][\w$]*)(?:\[\])?(?:\s*,\s*[^>\n]{1,80})?>\(/, // new Map<string, number>()
];

function looksLikeTypeScript(stripped: string): boolean {
  return TS_PATTERNS.some((re) => re.test(stripped));
}

// ---------------------------------------------------------------------------------------------------------
// A tiny line scanner: enough JavaScript lexing to know which lines are at top level and to blank out
// strings and comments, so that `// result = 1` or "def f():" in a string do not count.

interface ScanState {
  /** Open brackets, template literals ('`') and template substitutions ('${'). */
  stack: string[];
  /** Inside a block comment. */
  comment: boolean;
}

interface LineInfo {
  text: string;
  /** The line with string, template-text and comment contents replaced by spaces. */
  stripped: string;
  /** Starts outside any bracket, template literal and comment. */
  top: boolean;
}

function newScanState(): ScanState {
  return { stack: [], comment: false };
}

function analyze(code: string): LineInfo[] {
  const state = newScanState();
  return code.split('\n').map((text) => {
    const top = state.stack.length === 0 && !state.comment;
    return { text, stripped: scanLine(text, state), top };
  });
}

function strip(code: string): string {
  return analyze(code).map((l) => l.stripped).join('\n');
}

const PAIRS: Record<string, string> = { '}': '{', ')': '(', ']': '[' };

/** Scans one line, updating the state; returns the line with literal contents blanked. */
function scanLine(line: string, state: ScanState): string {
  let out = '';
  let i = 0;
  const keep = (n: number): void => {
    out += line.slice(i, i + n);
    i += n;
  };
  const blank = (n: number): void => {
    out += ' '.repeat(Math.max(0, n));
    i += n;
  };
  while (i < line.length) {
    const c = line[i] ?? '';
    const two = line.slice(i, i + 2);
    const top = state.stack.at(-1);
    if (state.comment) {
      if (two === '*/') state.comment = false;
      blank(two === '*/' ? 2 : 1);
    } else if (top === '`') {
      // Template text: only the closing backtick and `${` matter.
      if (c === '`') state.stack.pop();
      if (c === '`') keep(1);
      else if (two === '${') {
        state.stack.push('${');
        keep(2);
      } else blank(c === '\\' ? 2 : 1);
    } else if (two === '//') {
      blank(line.length - i);
    } else if (two === '/*') {
      state.comment = true;
      blank(2);
    } else if (c === '"' || c === "'" || (c === '/' && regexMayStart(line, i))) {
      // Strings end at the end of the line; a `/` with no closing slash on the line is a division.
      const end = literalEnd(line, i);
      keep(1);
      if (end >= 0 || c !== '/') {
        blank((end < 0 ? line.length : end) - i);
        if (end >= 0) keep(1);
      }
    } else {
      if (c === '`' || c === '{' || c === '(' || c === '[') state.stack.push(c);
      else if (c === '}' && top === '${') state.stack.pop();
      else if (PAIRS[c] !== undefined && top === PAIRS[c]) state.stack.pop();
      keep(1);
    }
  }
  return out.slice(0, line.length);
}

/** A `/` starts a regex literal, not a division, after an operator, an opening bracket or a keyword. */
function regexMayStart(line: string, at: number): boolean {
  let k = at - 1;
  while (k >= 0 && (line[k] === ' ' || line[k] === '\t')) k--;
  // Only the last few characters matter; looking at no more keeps long lines linear.
  const t = line.slice(Math.max(0, k - 9), k + 1);
  return t === '' || /[(,=:[!&|?{};+\-*%<>~^]$/.test(t) || /(?:^|[^\w$])(?:return|typeof|case|do|else|in|of|yield|await)$/.test(t);
}

/** Index of the quote or slash closing the literal that starts at `start`, or -1 at the end of the line. */
function literalEnd(line: string, start: number): number {
  const quote = line[start];
  let inClass = false;
  for (let j = start + 1; j < line.length; j++) {
    const ch = line[j];
    if (ch === '\\') j++;
    else if (quote === '/' && ch === '[') inClass = true;
    else if (quote === '/' && ch === ']') inClass = false;
    else if (ch === quote && !inClass) return j;
  }
  return -1;
}
