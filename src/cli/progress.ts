/**
 * Live progress of `automesh run`: on a TTY a small table redrawn in place as mesh events arrive (steps,
 * status, repairs, tokens, cost, time); elsewhere one line per event, so logs and CI output stay readable.
 * Also the final tables of tasks and workflows.
 */
import type { Envelope } from '../agent/envelope.js';
import { categoryHint } from '../core/error-categories.js';
import type { LlmCallEvent } from '../llm/call-events.js';
import type { WorkflowSummary } from '../mesh/events.js';
import type { Mesh } from '../mesh/mesh.js';
import { type Io, paint, println } from './io.js';
import { safeText } from './terminal-text.js';

export type RowStatus = 'pending' | 'running' | 'repairing' | 'success' | 'failure' | 'skipped';

export interface ProgressRow {
  id: string;
  role: string;
  task: string;
  status: RowStatus;
  repairs: number;
  tokens: number;
  costUsd: number | null;
  /** Seconds, once finished. */
  seconds: number | null;
  startedAt: number | null;
  /** `recovered`, `cached`, the last repair's reason, an error. */
  note: string;
  recovered: boolean;
  cached: boolean;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export function cost(value: number | null): string {
  return value === null ? 'unpriced' : `$${value.toFixed(6)}`;
}

export function seconds(value: number): string {
  return `${value.toFixed(2)} s`;
}

/** One line of text, at most `width` characters. */
export function clip(text: string, width: number): string {
  const flat = safeText(text.replace(/\s+/g, ' ').trim());
  if (width <= 0) return '';
  return flat.length > width ? `${flat.slice(0, Math.max(0, width - 1))}…` : flat;
}

function statusStyle(status: RowStatus): 'green' | 'red' | 'yellow' | 'cyan' | 'gray' {
  switch (status) {
    case 'success':
      return 'green';
    case 'failure':
      return 'red';
    case 'skipped':
    case 'repairing':
      return 'yellow';
    case 'running':
      return 'cyan';
    default:
      return 'gray';
  }
}

/**
 * A table whose cells may be coloured: widths come from the plain text, the last column is clipped so no
 * line is wider than `maxWidth` (a wrapped line would break the in-place redraw).
 */
export function renderTable(
  io: Io,
  headers: string[],
  rows: Array<Array<{ text: string; style?: Parameters<typeof paint>[1] }>>,
  maxWidth = Infinity,
): string[] {
  rows = rows.map((r) => r.map((c) => ({ ...c, text: safeText(c.text) })));
  const plain = [headers, ...rows.map((r) => r.map((c) => c.text))];
  const widths = headers.map((_, i) => Math.max(...plain.map((r) => (r[i] ?? '').length)));
  const last = headers.length - 1;
  const fixed = widths.slice(0, last).reduce((a, w) => a + w + 2, 0);
  const lastWidth = Math.max(8, Math.min(widths[last] ?? 0, maxWidth - fixed));
  const line = (cells: Array<{ text: string; style?: Parameters<typeof paint>[1] }>): string =>
    cells
      .map((cell, i) => {
        const text = i === last ? clip(cell.text, lastWidth) : cell.text.padEnd(widths[i] ?? 0);
        return cell.style ? paint(io, cell.style, text) : text;
      })
      .join('  ')
      .trimEnd();
  return [
    line(headers.map((h) => ({ text: h, style: 'bold' as const }))),
    line(widths.map((w, i) => ({ text: '-'.repeat(i === last ? Math.min(w, lastWidth) : w) }))),
    ...rows.map(line),
  ];
}

export interface ProgressOptions {
  /** `workflow <id>` or `task`. */
  title: string;
  /** Column header of the id column: `step` or `agent`. */
  idHeader: string;
  /** Live display on (false with --json). */
  enabled: boolean;
}

/** A row before anything happened to its step or agent. */
function pendingRow(r: Pick<ProgressRow, 'id' | 'role' | 'task'>): ProgressRow {
  return {
    ...r,
    status: 'pending',
    repairs: 0,
    tokens: 0,
    costUsd: 0,
    seconds: null,
    startedAt: null,
    note: '',
    recovered: false,
    cached: false,
  };
}

/** The live display. Feed it events; `finish()` ends it (on a TTY it clears the live table). */
export class Progress {
  readonly rows: ProgressRow[];
  private readonly byId = new Map<string, ProgressRow>();
  private readonly startTime = Date.now();
  private drawn = 0;
  private frame = 0;
  private timer: NodeJS.Timeout | null = null;
  private done = false;

  constructor(
    private readonly io: Io,
    private readonly options: ProgressOptions,
    rows: Array<Pick<ProgressRow, 'id' | 'role' | 'task'>>,
  ) {
    this.rows = rows.map(pendingRow);
    for (const row of this.rows) this.byId.set(row.id, row);
    if (!options.enabled) return;
    if (io.tty) {
      this.draw();
      this.timer = setInterval(() => this.draw(), 100);
      this.timer.unref();
    }
  }

  private get live(): boolean {
    return this.options.enabled && !this.done;
  }

  private line(id: string, text: string): void {
    if (!this.live || this.io.tty) return;
    const at = ((Date.now() - this.startTime) / 1000).toFixed(2);
    println(this.io, `+${at}s ${safeText(id)}: ${safeText(text)}`);
  }

  private row(id: string): ProgressRow {
    let row = this.byId.get(id);
    if (!row) {
      row = pendingRow({ id, role: '', task: '' });
      this.rows.push(row);
      this.byId.set(id, row);
    }
    return row;
  }

  /** A note for the whole run (non-TTY: printed; TTY: ignored, the table says it). */
  announce(text: string): void {
    if (this.live && !this.io.tty) println(this.io, text);
  }

  started(id: string, role: string, task: string): void {
    const row = this.row(id);
    Object.assign(row, { status: 'running', role, task, startedAt: Date.now(), note: '' });
    this.line(id, `started (${role}) ${clip(task, 100)}`);
    this.draw();
  }

  repaired(id: string, repair: number, errorCategory: string, error: string): void {
    const row = this.row(id);
    row.status = 'repairing';
    row.repairs = Math.max(row.repairs, repair);
    row.note = `repair ${repair} after ${errorCategory}: ${error}`;
    this.line(id, `repair ${repair} after ${errorCategory}: ${clip(error, 120)}`);
    this.draw();
  }

  /** A retry or failover of a model call, while the task waits for its answer. */
  llm(id: string, event: LlmCallEvent): void {
    const row = this.row(id);
    const what =
      event.kind === 'retry'
        ? `retry ${event.provider} in ${seconds(event.delayMs / 1000)} after try ${event.attempt} failed`
        : `failover ${event.provider} → ${event.next ?? '?'} after ${event.attempt} tr${event.attempt === 1 ? 'y' : 'ies'}`;
    row.note = `${what}: ${event.error}`;
    this.line(id, `${what}: ${clip(event.error, 120)}`);
    this.draw();
  }

  ended(id: string, envelope: Envelope, how: 'finished' | 'recovered' = 'finished'): void {
    const row = this.row(id);
    row.status = envelope.status;
    row.role ||= envelope.role;
    row.repairs = envelope.repairs;
    row.tokens = envelope.tokens.total;
    row.costUsd = envelope.costUsd;
    row.seconds = envelope.executionTime;
    row.recovered = how === 'recovered' || envelope.recovered === true;
    row.cached = envelope.cached;
    row.note = envelopeNote(envelope);
    if (how === 'recovered') {
      this.line(
        id,
        `recovered from the saved state (no model call): ${clip(JSON.stringify(envelope.output) ?? 'null', 80)}`,
      );
    } else if (envelope.status === 'success') {
      this.line(
        id,
        `success in ${seconds(envelope.executionTime)}: ${envelope.repairs} repair${envelope.repairs === 1 ? '' : 's'}, `
          + `${envelope.tokens.total} tokens, ${cost(envelope.costUsd)}${envelope.cached ? ', cached (no model call)' : ''}`,
      );
    } else if (envelope.status === 'failure') {
      this.line(
        id,
        `failure (${envelope.errorCategory ?? 'error'}) after ${envelope.repairs} repair${envelope.repairs === 1 ? '' : 's'}: ${clip(envelope.error ?? '', 160)}`,
      );
    } else {
      this.line(id, `skipped: ${clip(skipReason(envelope), 160)}`);
    }
    this.draw();
  }

  /** Subscribes to one workflow's events; returns the unsubscribe function. */
  follow(mesh: Mesh, workflowId: string): () => void {
    const mine = (e: { workflowId: string }): boolean => e.workflowId === workflowId;
    const handlers = {
      'workflow:started': (e: { workflowId: string; steps: number; resumed: boolean }) => {
        if (mine(e))
          this.announce(
            `workflow ${workflowId}: ${e.steps} step${e.steps === 1 ? '' : 's'}${e.resumed ? ', resuming saved state' : ''}`,
          );
      },
      'step:started': (e: { workflowId: string; stepId: string; role: string; task: string }) => {
        if (mine(e)) this.started(e.stepId, e.role, e.task);
      },
      'step:repaired': (e: {
        workflowId: string;
        stepId: string;
        repair: number;
        errorCategory: string;
        error: string;
      }) => {
        if (mine(e)) this.repaired(e.stepId, e.repair, e.errorCategory, e.error);
      },
      'step:finished': (e: { workflowId: string; stepId: string; envelope: Envelope }) => {
        if (mine(e)) this.ended(e.stepId, e.envelope);
      },
      'step:failed': (e: { workflowId: string; stepId: string; envelope: Envelope }) => {
        if (mine(e)) this.ended(e.stepId, e.envelope);
      },
      'step:skipped': (e: { workflowId: string; stepId: string; envelope: Envelope }) => {
        if (mine(e)) this.ended(e.stepId, e.envelope);
      },
      'step:recovered': (e: { workflowId: string; stepId: string; envelope: Envelope }) => {
        if (mine(e)) this.ended(e.stepId, e.envelope, 'recovered');
      },
      llm: (e: { workflowId: string; stepId: string } & LlmCallEvent) => {
        if (mine(e)) this.llm(e.stepId, e);
      },
    };
    mesh.on('workflow:started', handlers['workflow:started']);
    mesh.on('step:started', handlers['step:started']);
    mesh.on('step:repaired', handlers['step:repaired']);
    mesh.on('step:finished', handlers['step:finished']);
    mesh.on('step:failed', handlers['step:failed']);
    mesh.on('step:skipped', handlers['step:skipped']);
    mesh.on('step:recovered', handlers['step:recovered']);
    mesh.on('llm:retry', handlers.llm);
    mesh.on('llm:failover', handlers.llm);
    return () => {
      mesh.off('workflow:started', handlers['workflow:started']);
      mesh.off('step:started', handlers['step:started']);
      mesh.off('step:repaired', handlers['step:repaired']);
      mesh.off('step:finished', handlers['step:finished']);
      mesh.off('step:failed', handlers['step:failed']);
      mesh.off('step:skipped', handlers['step:skipped']);
      mesh.off('step:recovered', handlers['step:recovered']);
      mesh.off('llm:retry', handlers.llm);
      mesh.off('llm:failover', handlers.llm);
    };
  }

  private width(): number {
    const columns = (this.io.out as { columns?: number }).columns;
    return typeof columns === 'number' && columns > 20 ? columns - 1 : 119;
  }

  /** The live table (TTY). */
  private lines(): string[] {
    const now = Date.now();
    const finished = this.rows.filter(
      (r) => r.status === 'success' || r.status === 'failure' || r.status === 'skipped',
    ).length;
    const spin = this.done ? ' ' : paint(this.io, 'cyan', FRAMES[this.frame++ % FRAMES.length] as string);
    const elapsed = seconds((now - this.startTime) / 1000);
    const head = `${spin} ${paint(this.io, 'bold', this.options.title)}  ${finished}/${this.rows.length} done  ${elapsed}`;
    const body = renderTable(
      this.io,
      [this.options.idHeader, 'agent', 'status', 'repairs', 'tokens', 'cost', 'time', 'note'],
      this.rows.map((r) => {
        const time =
          r.seconds !== null ? seconds(r.seconds) : r.startedAt !== null ? seconds((now - r.startedAt) / 1000) : '';
        const done = r.status === 'success' || r.status === 'failure' || r.status === 'skipped';
        return [
          { text: r.id },
          { text: r.role },
          { text: r.status, style: statusStyle(r.status) },
          { text: String(r.repairs) },
          { text: done || r.tokens ? String(r.tokens) : '' },
          { text: done ? cost(r.costUsd) : '' },
          { text: time },
          { text: r.note || (r.status === 'pending' || r.status === 'running' ? r.task : ''), style: 'dim' },
        ];
      }),
      this.width(),
    );
    return [head, ...body];
  }

  private draw(): void {
    if (!this.live || !this.io.tty) return;
    const lines = this.lines();
    const up = this.drawn > 0 ? `\x1b[${this.drawn}F` : '';
    this.io.out.write(`${up}\x1b[0J${lines.join('\n')}\n`);
    this.drawn = lines.length;
  }

  /** Ends the live display; on a TTY the live table is erased (the final table replaces it). */
  finish(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.live && this.io.tty && this.drawn > 0) this.io.out.write(`\x1b[${this.drawn}F\x1b[0J`);
    this.drawn = 0;
    this.done = true;
  }
}

/** What the last column of a finished row says. */
export function envelopeNote(e: Envelope): string {
  if (e.status === 'success') {
    const tags = [e.recovered ? 'recovered' : '', e.cached ? 'cached' : ''].filter(Boolean);
    return `${tags.length ? `(${tags.join(', ')}) ` : ''}${JSON.stringify(e.output) ?? 'null'}`;
  }
  if (e.status === 'skipped') return skipReason(e);
  return `${e.errorCategory ? `${e.errorCategory}: ` : ''}${e.error ?? ''}`;
}

/** Why a step was skipped, without the engine's "Skipped:" prefix (the status column says it). */
function skipReason(e: Envelope): string {
  return (e.error ?? '').replace(/^Skipped:\s*/, '');
}

function envelopeCells(e: Envelope): Array<{ text: string; style?: Parameters<typeof paint>[1] }> {
  const status: RowStatus = e.status;
  return [
    { text: e.status, style: statusStyle(status) },
    { text: String(e.repairs) },
    { text: String(e.tokens.total) },
    { text: cost(e.costUsd) },
    { text: seconds(e.executionTime) },
    { text: envelopeNote(e) },
  ];
}

function terminalWidth(io: Io): number {
  const columns = (io.out as { columns?: number }).columns;
  return io.tty && typeof columns === 'number' && columns > 20 ? columns - 1 : 160;
}

/** One `hint:` line per category the failed envelopes ended with, from the table of error categories. */
function printHints(io: Io, failed: readonly Envelope[]): void {
  for (const category of new Set(failed.map((e) => e.errorCategory))) {
    const hint = categoryHint(category);
    if (hint) println(io, `${paint(io, 'yellow', 'hint:')} ${category}: ${hint}`);
  }
}

/** The final table of one task, then its output, code and where it is stored. */
export function printTaskResult(io: Io, e: Envelope): void {
  for (const line of renderTable(
    io,
    ['agent', 'status', 'repairs', 'tokens', 'cost', 'time', 'output'],
    [[{ text: e.role }, ...envelopeCells(e)]],
    terminalWidth(io),
  ))
    println(io, line);
  println(io);
  if (e.status === 'success') {
    const json = JSON.stringify(e.output, null, 2) ?? 'null';
    println(
      io,
      `${paint(io, 'bold', 'output:')} ${safeText(json.length > 4000 ? `${json.slice(0, 4000)}\n… (${json.length} characters; automesh logs show ${e.resultId} --json)` : json)}`,
    );
  } else {
    println(io, `${paint(io, 'red', 'error:')} ${e.errorCategory ?? 'error'}: ${safeText(e.error ?? '')}`);
    printHints(io, [e]);
  }
  if (e.code) {
    println(io, paint(io, 'bold', e.status === 'success' ? 'code:' : 'last code:'));
    println(
      io,
      safeText(e.code)
        .split('\n')
        .map((l) => `  ${l}`)
        .join('\n'),
    );
  }
  if (e.logs.length > 0) {
    println(io, paint(io, 'bold', 'console:'));
    println(
      io,
      e.logs
        .slice(0, 20)
        .map((l) => `  ${safeText(l)}`)
        .join('\n'),
    );
  }
  const via = e.cached ? 'the code registry (no model call)' : e.provider ? `${e.provider} / ${e.model ?? '?'}` : '-';
  println(
    io,
    `${paint(
      io,
      'dim',
      `via ${via}; result ${e.resultId} (automesh logs show ${e.resultId})`
        + `${e.functionId ? `; registered as ${e.functionId} (automesh registry show ${e.functionId})` : ''}`,
    )}`,
  );
}

/** The final table of a workflow, failures spelled out, and the summary line. */
export function printWorkflowResult(io: Io, workflowId: string, envelopes: Envelope[], summary: WorkflowSummary): void {
  for (const line of renderTable(
    io,
    ['step', 'agent', 'status', 'repairs', 'tokens', 'cost', 'time', 'output'],
    envelopes.map((e) => [{ text: e.stepId ?? '' }, { text: e.role }, ...envelopeCells(e)]),
    terminalWidth(io),
  ))
    println(io, line);
  println(io);
  const failed = envelopes.filter((e) => e.status === 'failure');
  for (const e of failed) {
    println(
      io,
      `${paint(io, 'red', `${e.stepId}:`)} ${e.errorCategory ?? 'error'}: ${safeText(e.error ?? '')} (automesh logs show ${e.resultId})`,
    );
  }
  printHints(io, failed);
  const s = summary;
  const ok = s.succeeded === s.steps && !s.cancelled;
  const head = `workflow ${workflowId}${s.cancelled ? ' (cancelled)' : ''}:`;
  println(
    io,
    `${paint(io, ok ? 'green' : 'red', head)} ${s.succeeded}/${s.steps} succeeded, ${s.failed} failed, ${s.skipped} skipped`
      + ` (${s.recovered} recovered, ${s.cached} cached); ${s.tokens.total} tokens, ${cost(s.costUsd)}; ${seconds(s.executionTime)}`
      // Tokens and cost above are this run's; what the recovered steps cost when they first ran is shown apart.
      + (s.recovered > 0
        ? `; recovered steps spent ${s.recoveredTokens.total} tokens, ${cost(s.recoveredCostUsd)} earlier`
        : ''),
  );
}
