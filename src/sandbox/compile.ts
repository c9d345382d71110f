/**
 * Turns generated code (the body of an async function, JavaScript or TypeScript) into the program a
 * sandbox worker runs, and reports syntax errors with positions in the code as the model wrote it.
 *
 * The body is wrapped so that every way of giving an answer is captured: an undeclared `result = x` lands
 * in the outer `let result`; `let/const/var result = x` at the top of the body is read by the appended
 * `return result`; an explicit `return x` returns before it.
 */
import { Script } from 'node:vm';
import { transform, type Message } from 'esbuild';
import { TraceMap, originalPositionFor } from '@jridgewell/trace-mapping';

const PREFIX = [
  'globalThis.__automesh_main__ = async function __automesh_main__() {',
  'let result;',
  'const __automesh_value__ = await (async () => {',
].join('\n') + '\n';
const SUFFIX = '\n;return result;\n})();\nreturn __automesh_value__ !== undefined ? __automesh_value__ : result;\n};\n';
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
  return { ok: false, message: `SyntaxError: ${first?.text ?? 'the code does not parse'}${where}${extra}`, line, column };
}

function isPlainJavaScript(wrapped: string): boolean {
  try {
    // Compiling is parsing only: nothing runs. Code that V8 accepts as-is needs no rewrite and no source map.
    new Script(wrapped, { filename: 'user-code.js' });
    return true;
  } catch {
    return false;
  }
}

const cache = new Map<string, CompileOutcome>();
const CACHE_LIMIT = 500;

/** Compiles generated code; results are cached by code text (registry reuse runs the same code again). */
export async function compileProgram(code: string): Promise<CompileOutcome> {
  const hit = cache.get(code);
  if (hit) {
    cache.delete(code);
    cache.set(code, hit);
    return hit;
  }
  const outcome = await compileUncached(code);
  cache.set(code, outcome);
  if (cache.size > CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
  return outcome;
}

async function compileUncached(code: string): Promise<CompileOutcome> {
  const userLines = code.split('\n').length;
  const wrapped = PREFIX + code + SUFFIX;
  if (isPlainJavaScript(wrapped)) return { ok: true, js: wrapped, map: null, userLines };
  try {
    const out = await transform(wrapped, {
      loader: 'ts',
      target: 'es2022',
      sourcemap: 'external',
      sourcefile: 'user-code.ts',
      logLevel: 'silent',
    });
    return { ok: true, js: out.code, map: new TraceMap(out.map), userLines };
  } catch (err) {
    const errors = (err as { errors?: Message[] }).errors;
    if (Array.isArray(errors) && errors.length > 0) return esbuildFailure(errors, userLines);
    throw err;
  }
}
