/**
 * A workflow run's state in a {@link WorkflowStore}: the run claims the workflow id with a lease (so one id runs in
 * one place at a time), keeps the lease renewed while it runs, writes a small header when it starts and ends and
 * one record per step when the step starts and when it ends, every write fenced by the lease, and gives the lease
 * up at the end. Also: which steps an earlier run's records let this run recover, and how much of a step's console
 * output a record keeps.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Envelope } from '../agent/envelope.js';
import { isStorageError } from '../storage/errors.js';
import type {
  LeaseOwner,
  StepRecord,
  WorkflowHeader,
  WorkflowLease,
  WorkflowSnapshot,
  WorkflowStore,
} from '../storage/types.js';

/** How long a lease lasts and how often it is renewed and, when waiting for another run, polled. */
export interface LeaseTiming {
  /** A crashed run blocks the id this long at most. */
  ttlMs: number;
  /** Well under `ttlMs`, so one slow renewal does not lose the lease. */
  renewEveryMs: number;
  /** With `wait`, how often the holder is checked. */
  pollMs: number;
}

/** The timing for a lease of `ttlMs`: renewed every third of it, polled at most every second. */
export function leaseTiming(ttlMs: number): LeaseTiming {
  return {
    ttlMs,
    renewEveryMs: Math.max(1, Math.floor(ttlMs / 3)),
    pollMs: Math.max(10, Math.min(1000, Math.floor(ttlMs / 3))),
  };
}

/** This run, as the lease names it. */
export function newOwner(): LeaseOwner {
  return { runId: randomUUID(), host: hostname(), pid: process.pid, since: new Date().toISOString() };
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Claims the workflow for `owner`. When another run holds it: rejects with the store's `locked` error (a
 * `WorkflowLockedError` naming the holder), or with `wait` polls until the holder releases it or its lease
 * expires. `signal` ends the wait.
 */
export async function claimWorkflow(
  store: WorkflowStore,
  workflowId: string,
  owner: LeaseOwner,
  timing: LeaseTiming,
  options: { wait: boolean; signal: AbortSignal },
): Promise<WorkflowLease> {
  for (;;) {
    try {
      return await store.claim(workflowId, owner, timing.ttlMs);
    } catch (err) {
      if (!options.wait || !isStorageError(err, 'locked')) throw err;
    }
    try {
      await delay(timing.pollMs, options.signal);
    } catch {
      throw new Error(`Workflow "${workflowId}" was cancelled while waiting for the run that holds it to finish.`, {
        cause: options.signal.reason,
      });
    }
  }
}

/** Most console lines, and bytes of them, a step's record keeps (its envelope as returned keeps them all). */
export const STORED_LOG_LINES = 50;
export const STORED_LOG_BYTES = 4 * 1024;

/**
 * The last lines of `logs` that fit {@link STORED_LOG_LINES} and {@link STORED_LOG_BYTES}, after a line saying
 * how much was left out; `logs` itself when it fits. A chatty step must not make the state of a large workflow
 * huge: 600 steps of 256 KiB of output each would otherwise be 150 MB.
 */
export function boundLogs(logs: readonly string[]): string[] {
  const kept: string[] = [];
  let bytes = 0;
  for (let i = logs.length - 1; i >= 0 && kept.length < STORED_LOG_LINES; i--) {
    const size = Buffer.byteLength(logs[i] as string);
    if (bytes + size > STORED_LOG_BYTES) break;
    kept.push(logs[i] as string);
    bytes += size;
  }
  if (kept.length === logs.length) return [...logs];
  const droppedLines = logs.length - kept.length;
  const droppedBytes = logs.slice(0, droppedLines).reduce((n, line) => n + Buffer.byteLength(line), 0);
  kept.push(
    `[automesh: ${droppedLines} earlier log line${droppedLines === 1 ? '' : 's'} (${droppedBytes} bytes) not kept in the workflow state]`,
  );
  return kept.reverse();
}

/** The envelope as a step record keeps it: JSON data, its logs bounded. */
export function storedEnvelope(envelope: Envelope): Record<string, unknown> {
  return { ...envelope, logs: boundLogs(envelope.logs) };
}

/** What recovery needs of a step. */
export interface RecoverableStep {
  id: string;
  specHash: string;
  dependsOn: readonly string[];
}

/**
 * Envelopes of the steps an earlier run finished that this run need not run again: those that succeeded with the
 * same spec and whose dependencies are recovered too (a step that runs again may answer differently, so everything
 * downstream of it runs again as well). Damaged records are not in `snapshot.steps`, so their steps run again.
 */
export function recoverSteps(
  steps: readonly RecoverableStep[],
  snapshot: WorkflowSnapshot | null,
): Map<string, Envelope> {
  const recovered = new Map<string, Envelope>();
  if (!snapshot) return recovered;
  const saved = new Map(snapshot.steps.map((record) => [record.stepId, record]));
  let changed = true;
  while (changed) {
    changed = false;
    for (const step of steps) {
      if (recovered.has(step.id)) continue;
      const record = saved.get(step.id);
      if (
        record?.status === 'success'
        && record.envelope
        && record.specHash === step.specHash
        && step.dependsOn.every((d) => recovered.has(d))
      ) {
        recovered.set(step.id, { ...(record.envelope as unknown as Envelope), stepId: step.id, recovered: true });
        changed = true;
      }
    }
  }
  return recovered;
}

/**
 * A claimed workflow: writes fenced by its lease, which it renews until {@link close}. A renewal that fails (the
 * lease was taken over, or the store is gone) is reported once through `onLost`; the run must then stop.
 */
export class WorkflowState {
  private lease: WorkflowLease;
  private readonly timer: NodeJS.Timeout;
  private renewing: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly store: WorkflowStore,
    lease: WorkflowLease,
    private readonly timing: LeaseTiming,
    private readonly onLost: (error: unknown) => void,
  ) {
    this.lease = lease;
    this.timer = setInterval(() => {
      this.renewing ??= this.renew().finally(() => {
        this.renewing = null;
      });
    }, timing.renewEveryMs);
  }

  get workflowId(): string {
    return this.lease.workflowId;
  }

  private async renew(): Promise<void> {
    try {
      const renewed = await this.store.renew(this.lease, this.timing.ttlMs);
      if (!this.closed) this.lease = renewed;
    } catch (err) {
      if (this.closed) return;
      clearInterval(this.timer);
      this.onLost(err);
    }
  }

  saveHeader(header: WorkflowHeader): Promise<void> {
    return this.store.saveHeader(this.lease, header);
  }

  saveStep(record: StepRecord): Promise<void> {
    return this.store.saveStep(this.lease, record);
  }

  /** Stops renewing and gives the workflow up; a lease already taken over is not an error. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.renewing;
    await this.store.release(this.lease);
  }
}
