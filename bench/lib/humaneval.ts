/**
 * HumanEval-X JavaScript problems, and the program text every runner executes for them.
 *
 * `prompt + canonical_solution + test` is a complete program whose checks are `console.assert` calls. A
 * failed `console.assert` only logs, so every runner runs the program after PRELUDE, which replaces the
 * global `console` with a copy whose `assert` throws: a problem passes when its program runs to the end
 * without throwing. The prelude works in all three runners because each one's global `console` is a
 * writable, configurable property (the sandbox runtime defines it that way; the raw runners provide it).
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

/** The problems whose canonical solution fails its own tests (the data's, not a runner's, fault). */
export const EXPECTED_FAILING: readonly string[] = ['JavaScript/112', 'JavaScript/155', 'JavaScript/162'];

export interface Problem {
  taskId: string;
  /** PRELUDE, then prompt + canonical_solution + test: a script that throws on the first failed check. */
  program: string;
}

/** One line, so line numbers in errors are the data's plus one. */
export const PRELUDE =
  'globalThis.console = Object.assign({}, globalThis.console, { assert(condition, ...data) { '
  + "if (!condition) throw new Error(data.length > 0 ? 'Assertion failed: ' + data.map(String).join(' ') : "
  + "'Assertion failed'); } });\n";

interface RawProblem {
  task_id: string;
  prompt: string;
  canonical_solution: string;
  test: string;
}

function isRawProblem(value: unknown): value is RawProblem {
  if (value === null || typeof value !== 'object') return false;
  const record = value as Record<string, unknown>;
  return ['task_id', 'prompt', 'canonical_solution', 'test'].every((key) => typeof record[key] === 'string');
}

/** A problem with its parts kept apart (the agent benchmark asks for the prompt and answers with the rest). */
export interface ProblemParts extends Problem {
  prompt: string;
  canonicalSolution: string;
  test: string;
}

/** Reads the gzipped JSON-lines file; throws with the file and line when it is not what we expect. */
export function loadProblemParts(path: string): ProblemParts[] {
  const text = gunzipSync(readFileSync(path)).toString('utf8');
  const problems: ProblemParts[] = [];
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    const parsed: unknown = JSON.parse(line);
    if (!isRawProblem(parsed)) {
      throw new Error(`${path}, line ${index + 1}: expected task_id, prompt, canonical_solution and test strings.`);
    }
    problems.push({
      taskId: parsed.task_id,
      program: PRELUDE + parsed.prompt + parsed.canonical_solution + parsed.test,
      prompt: parsed.prompt,
      canonicalSolution: parsed.canonical_solution,
      test: parsed.test,
    });
  });
  if (problems.length === 0) throw new Error(`${path} holds no problems.`);
  return problems;
}

/** {@link loadProblemParts}, reduced to what the sandbox runners need (task id and program). */
export function loadProblems(path: string): Problem[] {
  return loadProblemParts(path).map(({ taskId, program }) => ({ taskId, program }));
}

/** What one runner did with one problem. */
export interface ProblemOutcome {
  taskId: string;
  passed: boolean;
  /** Why it failed (first line of the error), or null. */
  error: string | null;
  /** Wall milliseconds for this problem as the runner saw it (for the executor: submission to result). */
  ms: number;
}

/** What one runner did with all problems. */
export interface RunnerReport {
  runner: string;
  /** How it ran, e.g. `serial, fresh isolate per problem`. */
  mode: string;
  /** Wall milliseconds from the first problem's start to the last one's end. */
  totalMs: number;
  outcomes: ProblemOutcome[];
}

export function firstLine(err: unknown): string {
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return (text.split('\n')[0] ?? '').slice(0, 200);
}
