/**
 * Turns generated code (the body of an async function, JavaScript or TypeScript) into the program a
 * sandbox worker runs, and reports syntax errors with positions in the code as the model wrote it.
 *
 * The body is wrapped so that every way of giving an answer is captured: an undeclared `result = x` lands
 * in the outer `let result`; `let/const/var result = x` at the top of the body is read by the appended
 * `return result`; an explicit `return x` returns before it.
 */
import { compileFunction } from 'node:vm';
import { originalPositionFor, TraceMap } from '@jridgewell/trace-mapping';
import { type Message, stop as stopEsbuild, type TransformResult, transform } from 'esbuild';

const PREFIX =
  [
    'globalThis.__automesh_main__ = async function __automesh_main__() {',
    'let result;',
    'const __automesh_value__ = await (async () => {',
  ].join('\n') + '\n';
const SUFFIX =
  '\n;return result;\n})();\nreturn __automesh_value__ !== undefined ? __automesh_value__ : result;\n};\nvoid 0;\n';
const PREFIX_LINES = 3;

/** A program ready for the worker, plus what is needed to map positions back to the user's code. */
export interface CompiledProgram {
  ok: true;
  /** JavaScript assigning `globalThis.__automesh_main__`. */
  js: string;
  /** Present when esbuild rewrote the code (TypeScript): maps compiled positions to wrapped-source ones. */
  map: TraceMap | null;
  /** Number of lines in the code as given, to clamp positions that fall in the wrapper's suffix. */
  userLines: number;
}

export interface CompileFailure {
  ok: false;
  message: string;
  line: number | null;
  column: number | null;
  /** How the execution is reported: `syntax` unless compiling itself ran out of time or lost its compiler. */
  category?: 'syntax' | 'timeout' | 'crashed';
}

export type CompileOutcome = CompiledProgram | CompileFailure;

/** Maps a 1-based line/column of the compiled program to the user's code. */
export function toUserPosition(
  program: CompiledProgram,
  line: number,
  column: number,
): { line: number; column: number } | null {
  // The positions come from a stack text the sandboxed code controls (`err.stack = '... user-code.js:0:1'`).
  // trace-mapping throws on line 0, which would make `execute()` reject; anything that is not a real
  // 1-based position simply has no user-code location.
  if (!Number.isSafeInteger(line) || !Number.isSafeInteger(column) || line < 1 || column < 1) return null;
  let wrappedLine = line;
  let wrappedColumn = column;
  if (program.map) {
    const original = originalPositionFor(program.map, { line, column: Math.max(0, column - 1) });
    if (original.line === null) return null;
    wrappedLine = original.line;
    wrappedColumn = original.column + 1;
  }
  const userLine = wrappedLine - PREFIX_LINES;
  if (userLine < 1) return null;
  if (userLine > program.userLines) return { line: program.userLines, column: 1 };
  return { line: userLine, column: wrappedColumn };
}

function esbuildFailure(errors: Message[], userLines: number): CompileFailure {
  const first = errors[0];
  const loc = first?.location;
  let line: number | null = null;
  let column: number | null = null;
  let where = '';
  if (loc) {
    const userLine = loc.line - PREFIX_LINES;
    if (userLine > userLines) {
      line = Math.max(1, userLines);
      where = ' at the end of the code';
    } else {
      line = Math.max(1, userLine);
      column = loc.column + 1;
      where = ` at line ${line}, column ${column}`;
      if (loc.lineText) where += `: ${loc.lineText.trim().slice(0, 200)}`;
    }
  }
  const extra = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
  return {
    ok: false,
    message: `SyntaxError: ${first?.text ?? 'the code does not parse'}${where}${extra}`,
    line,
    column,
  };
}

/** `ok`: V8 accepts the code as-is. `deep`: V8's parser ran out of stack (absurdly deep nesting). */
function parseWithV8(wrapped: string): 'ok' | 'deep' | 'other' {
  try {
    // Compiling is parsing only: nothing runs. Code that V8 accepts as-is needs no rewrite and no source map.
    // As a function body, not a `Script`: V8 keeps every compiled script's source in its compilation cache,
    // which held 177 MB after 210 large programs. The wrapper's top level parses the same either way.
    compileFunction(wrapped, [], { filename: 'user-code.js' });
    return 'ok';
  } catch (err) {
    return err instanceof RangeError && /call stack/i.test(err.message) ? 'deep' : 'other';
  }
}

interface CacheEntry {
  outcome: CompileOutcome;
  /** Estimated bytes the entry keeps alive: its code, the compiled program and its source map, as UTF-16. */
  bytes: number;
}

const cache = new Map<string, CacheEntry>();
/**
 * Bytes the cache may keep (estimated). A bound on the number of entries alone let 210 large programs keep
 * 421 MB alive; generated programs are usually a few kilobytes, so this still holds thousands of them.
 */
const CACHE_BYTES = 64 << 20;
let cacheBytes = 0;

/**
 * Bytes a source map keeps per character of its text once positions have been looked up in it: trace-mapping
 * decodes the whole map then (measured: 46 MB for the 3.5 MB map of a 1.7 MB TypeScript program).
 */
const DECODED_MAP_BYTES_PER_CHAR = 14;

function entryBytes(code: string, outcome: CompileOutcome, mapChars: number): number {
  const textChars = code.length + (outcome.ok ? outcome.js.length : outcome.message.length);
  return 2 * textChars + DECODED_MAP_BYTES_PER_CHAR * mapChars;
}

function remember(code: string, outcome: CompileOutcome, mapChars: number): void {
  const bytes = entryBytes(code, outcome, mapChars);
  if (bytes > CACHE_BYTES / 4) return;
  cache.set(code, { outcome, bytes });
  cacheBytes += bytes;
  while (cacheBytes > CACHE_BYTES) {
    const [oldest, entry] = cache.entries().next().value as [string, CacheEntry];
    cache.delete(oldest);
    cacheBytes -= entry.bytes;
  }
}
/** Time a compile may take when the caller gives no deadline. */
const DEFAULT_DEADLINE_MS = 10_000;

/**
 * Compiles generated code; results are cached by code text (registry reuse runs the same code again).
 * `deadlineMs` bounds the time spent in esbuild: pathological code can keep it busy for minutes.
 */
export async function compileProgram(code: string, deadlineMs = DEFAULT_DEADLINE_MS): Promise<CompileOutcome> {
  const hit = cache.get(code);
  if (hit) {
    cache.delete(code);
    cache.set(code, hit);
    return hit.outcome;
  }
  const { outcome, mapChars } = await compileUncached(code, deadlineMs);
  // A compile that ran out of time or lost its compiler says nothing lasting about the code: not cached.
  if (outcome.ok || !outcome.category || outcome.category === 'syntax') remember(code, outcome, mapChars);
  return outcome;
}

function failure(message: string, category: CompileFailure['category']): CompileFailure {
  return { ok: false, message, line: null, column: null, category };
}

/** A compile's outcome, with the length of its source map's text (what the map keeps alive, roughly). */
async function compileUncached(
  code: string,
  deadlineMs: number,
): Promise<{ outcome: CompileOutcome; mapChars: number }> {
  const userLines = code.split('\n').length;
  const wrapped = PREFIX + code + SUFFIX;
  const v8 = parseWithV8(wrapped);
  const only = (outcome: CompileOutcome): { outcome: CompileOutcome; mapChars: number } => ({ outcome, mapChars: 0 });
  if (v8 === 'ok') return only({ ok: true, js: wrapped, map: null, userLines });
  // esbuild's parser recurses too, in a Go process whose stack may grow to 1 GB: ~1e5 nested blocks kept it
  // busy for minutes, nested arrows crashed it (test/hostile-*.test.ts). Code nested beyond V8's own limit
  // could not run anyway, so it never reaches esbuild.
  if (v8 === 'deep') {
    return only(failure('SyntaxError: the code is nested too deeply to compile; flatten the nesting.', 'syntax'));
  }
  // Two tries: a transform can lose its esbuild process to someone else's pathological code (see below).
  for (let attempt = 0; attempt < 2; attempt++) {
    const outcome = await transformWithin(wrapped, deadlineMs);
    if (outcome.kind === 'ok') {
      const { code: js, map } = outcome.out;
      return { outcome: { ok: true, js, map: new TraceMap(map), userLines }, mapChars: map.length };
    }
    if (outcome.kind === 'syntax') return only(esbuildFailure(outcome.errors, userLines));
    if (outcome.kind === 'slow') {
      return only(failure(`Compiling the code took longer than the time limit of ${deadlineMs} ms.`, 'timeout'));
    }
  }
  return only(failure('The TypeScript compiler stopped while compiling this code; simplify it.', 'crashed'));
}

/**
 * esbuild runs as one long-lived child process shared by every compile. If it dies (a Go stack overflow on
 * deeply nested code) its JS API keeps the dead service and every later transform fails with "The service is
 * no longer running", so each execution of TypeScript would throw for the rest of the host's life. A compile
 * past its deadline is stopped the same way. `stop()` drops the service; the next transform starts a new one.
 * The generation counter keeps callers whose transform died with the same service from stopping its successor.
 */
let esbuildGeneration = 0;

function restartEsbuild(generation: number): void {
  if (generation !== esbuildGeneration) return;
  esbuildGeneration += 1;
  void stopEsbuild();
}

type TransformOutcome =
  | { kind: 'ok'; out: TransformResult }
  | { kind: 'syntax'; errors: Message[] }
  | { kind: 'slow' }
  | { kind: 'lost' };

const SERVICE_GONE = /The service (was stopped|is no longer running)/;

async function transformWithin(wrapped: string, deadlineMs: number): Promise<TransformOutcome> {
  const generation = esbuildGeneration;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'slow'>((resolve) => {
    timer = setTimeout(() => resolve('slow'), deadlineMs);
  });
  try {
    const out = await Promise.race([
      transform(wrapped, {
        loader: 'ts',
        target: 'es2022',
        sourcemap: 'external',
        sourcefile: 'user-code.ts',
        logLevel: 'silent',
      }),
      deadline,
    ]);
    if (out === 'slow') {
      restartEsbuild(generation);
      return { kind: 'slow' };
    }
    return { kind: 'ok', out };
  } catch (err) {
    const errors = (err as { errors?: Message[] }).errors;
    if (Array.isArray(errors) && errors.length > 0) return { kind: 'syntax', errors };
    if (!SERVICE_GONE.test(err instanceof Error ? err.message : String(err))) throw err;
    restartEsbuild(generation);
    return { kind: 'lost' };
  } finally {
    clearTimeout(timer);
  }
}
