/**
 * A tiny line scanner: enough JavaScript lexing to know which lines are at top level and to blank out
 * strings and comments, so that `// result = 1` or "def f():" in a string do not count.
 */

export interface ScanState {
  /** Open brackets, template literals ('`') and template substitutions ('${'). */
  stack: string[];
  /** Inside a block comment. */
  comment: boolean;
}

export interface LineInfo {
  text: string;
  /** The line with string, template-text and comment contents replaced by spaces. */
  stripped: string;
  /** Starts outside any bracket, template literal and comment. */
  top: boolean;
}

export function newScanState(): ScanState {
  return { stack: [], comment: false };
}

/**
 * The lines of `code`, scanned. Extraction looks at the same block several times (classify, score, definitions):
 * the last few scans are kept (read-only, like every caller treats them), so a block is scanned once.
 */
export function analyze(code: string): readonly LineInfo[] {
  const hit = recent.get(code);
  if (hit) return hit;
  const state = newScanState();
  const lines = code.split('\n').map((text): LineInfo => {
    const top = state.stack.length === 0 && !state.comment;
    return { text, stripped: scanLine(text, state), top };
  });
  if (code.length > RECENT_SCAN_CHARS) return lines;
  if (recent.size >= RECENT_SCANS) recent.delete(recent.keys().next().value as string);
  recent.set(code, lines);
  return lines;
}

/** Scans kept by {@link analyze}: a reply has a few blocks, and each is looked at within one extraction. */
const RECENT_SCANS = 8;
/** Longer blocks are not kept: a huge reply must not stay alive after its task. */
const RECENT_SCAN_CHARS = 256 * 1024;
const recent = new Map<string, readonly LineInfo[]>();

export function strip(code: string): string {
  return analyze(code)
    .map((l) => l.stripped)
    .join('\n');
}

const PAIRS: Record<string, string> = { '}': '{', ')': '(', ']': '[' };

/** Scans one line, updating the state; returns the line with literal contents blanked. */
export function scanLine(line: string, state: ScanState): string {
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
  return (
    t === ''
    || /[(,=:[!&|?{};+\-*%<>~^]$/.test(t)
    || /(?:^|[^\w$])(?:return|typeof|case|do|else|in|of|yield|await)$/.test(t)
  );
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
