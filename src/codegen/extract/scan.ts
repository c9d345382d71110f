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

/**
 * Scans one line, updating the state; returns the line with literal contents blanked. Each position of the result
 * is the line's character or a space, so kept text is copied in runs, and the loop allocates nothing per character
 * (a slice per character made extraction cost ~0.4 ms per 5 KB reply).
 */
export function scanLine(line: string, state: ScanState): string {
  const { stack } = state;
  const length = line.length;
  let out = '';
  /** Start of the run of kept characters not yet copied to `out`. */
  let kept = 0;
  let i = 0;
  while (i < length) {
    const c = line[i] as string;
    const next = line[i + 1];
    const top = stack[stack.length - 1];
    /** Characters from `i` on that become spaces; 0 keeps the character(s) stepped over below. */
    let blank = 0;
    if (state.comment) {
      const closes = c === '*' && next === '/';
      if (closes) state.comment = false;
      blank = closes ? 2 : 1;
    } else if (top === '`') {
      // Template text: only the closing backtick and `${` matter.
      if (c === '`') {
        stack.pop();
        i += 1;
      } else if (c === '$' && next === '{') {
        stack.push('${');
        i += 2;
      } else blank = c === '\\' ? 2 : 1;
    } else if (c === '/' && next === '/') {
      blank = length - i;
    } else if (c === '/' && next === '*') {
      state.comment = true;
      blank = 2;
    } else if (c === '"' || c === "'" || (c === '/' && regexMayStart(line, i))) {
      // Strings end at the end of the line; a `/` with no closing slash on the line is a division.
      const end = literalEnd(line, i);
      i += 1;
      if (end >= 0 || c !== '/') {
        const to = end < 0 ? length : end;
        out += line.slice(kept, i) + ' '.repeat(to - i);
        // The closing quote (if any) starts the next kept run.
        i = to;
        kept = to;
        if (end >= 0) i += 1;
      }
    } else {
      if (c === '`' || c === '{' || c === '(' || c === '[') stack.push(c);
      else if (c === '}' && top === '${') stack.pop();
      else if (PAIRS[c] !== undefined && top === PAIRS[c]) stack.pop();
      i += 1;
    }
    if (blank > 0) {
      out += line.slice(kept, i) + ' '.repeat(Math.min(blank, length - i));
      i += blank;
      kept = i;
    }
  }
  return kept < length ? out + line.slice(kept, length) : out;
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
