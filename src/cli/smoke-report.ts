/**
 * How `automesh smoketest` reports: one line per stage (badge, name, time, detail), or, with --json, the list
 * of stages for the final object; and the outcome the run ends with.
 */
import { relative, sep } from 'node:path';
import { type Io, ms, paint, println } from './io.js';
import type { SmokeStage } from './smoke-runtime.js';
import { safeText } from './terminal-text.js';

/** The stages in the order they run and are printed. */
export const SMOKE_STAGES: SmokeStage[] = [
  'settings',
  'provider chain',
  'sandbox start',
  'code generation',
  'execution',
  'registry',
  'result log',
];

export type StageStatus = 'ok' | 'fail' | 'warn' | 'skipped';

export interface StageReport {
  name: SmokeStage;
  status: StageStatus;
  durationMs: number | null;
  detail: string;
  data?: Record<string, unknown>;
}

/** How a smoketest ends: passed, or the stage that failed and what to do. */
export interface Outcome {
  ok: boolean;
  failedStage: SmokeStage | null;
  error: string | null;
  nextSteps: string[];
  /** The model's last code, when it was wrong. */
  lastCode?: string | null;
}

function badge(io: Io, status: StageStatus): string {
  const text = io.tty
    ? { ok: '✔', fail: '✖', warn: '!', skipped: '-' }[status]
    : { ok: 'ok', fail: 'FAIL', warn: 'warn', skipped: 'skip' }[status];
  const style = ({ ok: 'green', fail: 'red', warn: 'yellow', skipped: 'gray' } as const)[status];
  return paint(io, style, text.padEnd(io.tty ? 1 : 4));
}

/** `path` relative to `cwd` when it is inside it. */
export function shown(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  return rel && !rel.startsWith('..') && !rel.startsWith(sep) ? rel : path;
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function firstLine(text: string, width = 300): string {
  const line = text.split('\n')[0] ?? '';
  return line.length > width ? `${line.slice(0, width - 1)}…` : line;
}

/** The stages reported so far; each is printed as it is added (not with --json). */
export class Stages {
  readonly list: StageReport[] = [];

  constructor(
    private readonly io: Io,
    private readonly json: boolean,
  ) {}

  add(stage: StageReport): void {
    this.list.push(stage);
    if (this.json) return;
    const time = stage.durationMs === null ? '' : ms(stage.durationMs);
    // The detail may quote the model (its error, its output): shown safe, then painted.
    const detail = stage.status === 'skipped' ? paint(this.io, 'gray', safeText(stage.detail)) : safeText(stage.detail);
    println(this.io, `  ${badge(this.io, stage.status)} ${stage.name.padEnd(15)} ${time.padStart(8)}  ${detail}`);
  }

  status(name: SmokeStage): StageStatus | undefined {
    return this.list.find((s) => s.name === name)?.status;
  }

  /** A failed stage, every stage not reported yet as skipped, and the outcome that says so. */
  fail(
    name: SmokeStage,
    durationMs: number | null,
    detail: string,
    outcome: Omit<Outcome, 'ok' | 'failedStage'>,
    skipped = 'not run',
  ): Outcome {
    this.add({ name, status: 'fail', durationMs, detail });
    this.skipRest(skipped);
    return { ok: false, failedStage: name, ...outcome };
  }

  /** Every stage not reported yet, as skipped. */
  skipRest(reason: string): void {
    for (const name of SMOKE_STAGES) {
      if (!this.list.some((s) => s.name === name))
        this.add({ name, status: 'skipped', durationMs: null, detail: reason });
    }
  }
}

/** The closing lines: PASS, or FAIL with the stage, the model's last code, and what to do. */
export function printOutcome(io: Io, outcome: Outcome, durationMs: number): void {
  println(io, '');
  if (outcome.ok) {
    println(io, `${paint(io, 'green', 'PASS')}: the calculator agent computed 2 + 2 = 4 in ${ms(durationMs)}.`);
  } else {
    println(
      io,
      `${paint(io, 'red', 'FAIL')} at stage "${outcome.failedStage ?? '?'}": ${safeText(outcome.error ?? 'unknown error')}`,
    );
    if (outcome.lastCode) {
      const lines = safeText(outcome.lastCode).split('\n');
      println(io, '');
      println(io, 'The last code the model wrote:');
      for (const line of lines.slice(0, 15)) println(io, paint(io, 'gray', `    ${line}`));
      if (lines.length > 15) println(io, paint(io, 'gray', `    … (${lines.length - 15} more lines)`));
    }
  }
  println(io, '');
  println(io, paint(io, 'bold', outcome.ok ? 'Next steps:' : 'What to do:'));
  outcome.nextSteps.forEach((step, i) => println(io, `  ${i + 1}. ${step}`));
}
