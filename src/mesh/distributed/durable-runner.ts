/**
 * The orchestrator side of distributed workflows: a {@link StepRunner} that dispatches each step as a job on the
 * work queue (topic = the agent's role, taken by whichever node serves it) and waits for its result record.
 *
 * Resuming: each dispatch is remembered in a dispatch record (per workflow and step). A run of the same workflow id
 * that finds a dispatch for the very same input which no orchestrator has taken the result of yet adopts it: it
 * waits for (or reads) that dispatch's result instead of dispatching the step again, so a step in flight on another
 * node when its orchestrator died is neither repeated nor paid for twice.
 */
import type { Envelope } from '../../agent/envelope.js';
import { watchAbort } from '../../core/abort.js';
import type { Bus, BusSubscription, KvBucket } from '../../transport/bus.js';
import { isBusError } from '../../transport/bus-errors.js';
import type { WorkQueue } from '../../transport/work-queue.js';
import { envelopeProblem } from '../remote-runner.js';
import { type StepCall, type StepProgress, type StepRunner, unranStepEnvelope } from '../step-runner.js';
import {
  type DispatchRecord,
  decodeJson,
  dispatchKey,
  dispatchRecordSchema,
  encodeJson,
  inputKey,
  newDispatchId,
  noticeSubject,
  type ResultRecord,
  resultKey,
  resultRecordSchema,
  stepJob,
} from './step-job.js';

export interface DurableRunnerOptions {
  queue: WorkQueue;
  bus: Bus;
  steps: KvBucket;
  /** This mesh's instance: a result recorded by another instance is copied into this node's result log. */
  instanceId: string;
  /** How long a step may take in all (`MESH_STEP_TIMEOUT`). */
  timeoutMs: number;
  /** How often a waiting step re-reads its result record, in case its notice was lost (a broker restart). */
  pollMs: number;
  /** A result another node recorded: the orchestrator keeps a copy (`automesh logs show` finds it here). */
  onRemoteResult: (call: StepCall, envelope: Envelope, record: ResultRecord) => Promise<void>;
  onWarning: (message: string) => void;
}

/** How long a cancelled step waits for its node to confirm before it ends as cancelled anyway. */
const CANCEL_GRACE_MS = 5_000;

type Outcome = { record: ResultRecord } | { failure: Envelope };

/** A dispatch record as stored: what marking it taken compares against. */
interface StoredDispatch {
  record: DispatchRecord;
  revision: number;
}

export class DurableStepRunner implements StepRunner {
  /** Waiting dispatches by queue sequence: what a job given up after its last delivery ends. */
  private readonly bySeq = new Map<number, (deliveries: number) => void>();
  /** Every waiting dispatch's re-read, run when the connection comes back. */
  private readonly recheck = new Set<() => void>();
  private readonly unlisten: Array<() => void>;

  constructor(private readonly options: DurableRunnerOptions) {
    this.unlisten = [
      options.queue.onExhausted((job) => this.bySeq.get(job.seq)?.(job.deliveries)),
      options.bus.onConnection((event) => {
        if (event.type === 'reconnected') for (const read of this.recheck) read();
      }),
    ];
  }

  close(): void {
    for (const stop of this.unlisten) stop();
  }

  async run(call: StepCall, signal: AbortSignal, onProgress: (event: StepProgress) => void): Promise<Envelope> {
    const key = inputKey(call);
    const previous = await this.readDispatch(call);
    const adopt = previous !== null && previous.record.inputKey === key && !previous.record.consumed;
    const dispatch = { stored: adopt ? previous : null };
    let dispatchId = adopt ? previous.record.dispatchId : newDispatchId();
    let outcome = await this.dispatchAndWait(call, dispatchId, key, adopt, signal, onProgress, dispatch);
    if (outcome === 'gone') {
      // The adopted job left the queue with no result (given up after its last delivery): dispatch it anew.
      dispatchId = newDispatchId();
      outcome = await this.dispatchAndWait(call, dispatchId, key, false, signal, onProgress, dispatch);
    }
    if (outcome === 'gone') {
      return failed(call, `Step "${call.stepId}" left the work queue without a result; run the workflow again.`);
    }
    if ('failure' in outcome) return outcome.failure;
    return this.take(call, outcome.record, dispatch.stored);
  }

  /**
   * Dispatches (or, adopting, re-announces with the same dedupe id) and waits. `gone` when an adopted job is no
   * longer in the queue and has no result.
   */
  private async dispatchAndWait(
    call: StepCall,
    dispatchId: string,
    key: string,
    adopting: boolean,
    signal: AbortSignal,
    onProgress: (event: StepProgress) => void,
    dispatch: { stored: StoredDispatch | null },
  ): Promise<Outcome | 'gone'> {
    const wait = new ResultWait(this, call, dispatchId, signal, onProgress);
    try {
      if (adopting) {
        const found = await this.readResult(dispatchId);
        if (found) return { record: found };
      } else {
        const record: DispatchRecord = { v: 1, dispatchId, inputKey: key, dispatchedAt: now(), consumed: false };
        dispatch.stored = { record, revision: await this.writeDispatch(call, record) };
      }
      const job = stepJob(call, dispatchId);
      const { seq, duplicate } = await this.options.queue.enqueue(call.role, encodeJson(job), { id: dispatchId });
      if (duplicate && !(await this.options.queue.pending(seq))) {
        const found = await this.readResult(dispatchId);
        return found ? { record: found } : 'gone';
      }
      return await wait.until(seq);
    } catch (err) {
      return { failure: failed(call, `Step "${call.stepId}" could not be dispatched: ${messageOf(err)}`) };
    } finally {
      wait.close();
    }
  }

  /** @internal For {@link ResultWait}. */
  watchSeq(seq: number, onExhausted: (deliveries: number) => void): () => void {
    this.bySeq.set(seq, onExhausted);
    return () => this.bySeq.delete(seq);
  }

  /** @internal For {@link ResultWait}. */
  watchReconnect(read: () => void): () => void {
    this.recheck.add(read);
    return () => this.recheck.delete(read);
  }

  /** @internal */
  get settings(): Pick<DurableRunnerOptions, 'bus' | 'timeoutMs' | 'pollMs'> {
    return this.options;
  }

  /** @internal The result record of a dispatch, or null; a damaged one counts as none (reported). */
  async readResult(dispatchId: string): Promise<ResultRecord | null> {
    const entry = await this.options.steps.get(resultKey(dispatchId));
    if (!entry) return null;
    try {
      return decodeJson(resultRecordSchema, entry.value, `The result record of dispatch ${dispatchId}`);
    } catch (err) {
      this.options.onWarning(`${messageOf(err)}; waiting for the step to be recorded again.`);
      return null;
    }
  }

  private async readDispatch(call: StepCall): Promise<StoredDispatch | null> {
    const entry = await this.options.steps.get(dispatchKey(call.workflowId, call.stepId));
    if (!entry) return null;
    try {
      const record = decodeJson(dispatchRecordSchema, entry.value, `The dispatch record of step "${call.stepId}"`);
      return { record, revision: entry.revision };
    } catch (err) {
      // Not knowing what was dispatched costs at most a second run of the step.
      this.options.onWarning(`${messageOf(err)}; the step is dispatched anew.`);
      return null;
    }
  }

  private writeDispatch(call: StepCall, record: DispatchRecord): Promise<number> {
    return this.options.steps.put(dispatchKey(call.workflowId, call.stepId), encodeJson(record));
  }

  /**
   * Marks the dispatch taken, so a later run dispatches anew: a compare-and-set on the revision this run wrote or
   * adopted, so a dispatch record changed meanwhile (another run dispatched the step again) is left as it is.
   */
  private async markTaken(call: StepCall, stored: StoredDispatch): Promise<void> {
    const taken = encodeJson({ ...stored.record, consumed: true });
    try {
      await this.options.steps.update(dispatchKey(call.workflowId, call.stepId), taken, stored.revision);
    } catch (err) {
      if (isBusError(err, 'kv_conflict')) return;
      this.options.onWarning(
        `Step "${call.stepId}": could not mark its dispatch as taken (${messageOf(err)}); a later run of the `
          + 'workflow may take this result again instead of running the step anew.',
      );
    }
  }

  /** The step's envelope from its record; the dispatch is marked taken while a remote result is copied here. */
  private async take(call: StepCall, record: ResultRecord, stored: StoredDispatch | null): Promise<Envelope> {
    const problem = envelopeProblem(record.envelope);
    if (problem) {
      return failed(
        call,
        `Step "${call.stepId}" came back from node "${record.node}" with no valid envelope (${problem}).`,
      );
    }
    const envelope = { ...(record.envelope as unknown as Envelope), stepId: call.stepId };
    await Promise.all([
      stored?.record.dispatchId === record.dispatchId ? this.markTaken(call, stored) : undefined,
      record.instanceId !== this.options.instanceId ? this.options.onRemoteResult(call, envelope, record) : undefined,
    ]);
    return envelope;
  }
}

/** Waiting for one dispatch's result: its notices, a periodic re-read, exhaustion, timeout and cancellation. */
class ResultWait {
  private readonly subscription: BusSubscription;
  private readonly stops: Array<() => void> = [];
  private settle: ((outcome: Outcome) => void) | null = null;
  private early: Outcome | null = null;

  constructor(
    private readonly runner: DurableStepRunner,
    private readonly call: StepCall,
    private readonly dispatchId: string,
    private readonly signal: AbortSignal,
    private readonly onProgress: (event: StepProgress) => void,
  ) {
    // Subscribed before the job is enqueued: its notices cannot come before we listen.
    this.subscription = runner.settings.bus.subscribe(`automesh.step.${dispatchId}.*`, (message) => {
      const kind = message.subject.slice(message.subject.lastIndexOf('.') + 1);
      if (kind === 'progress') this.progress(message.data);
      else if (kind === 'done') this.done(message.data);
    });
  }

  until(seq: number): Promise<Outcome> {
    const { timeoutMs, pollMs } = this.runner.settings;
    return new Promise<Outcome>((resolve) => {
      this.settle = resolve;
      if (this.early) return resolve(this.early);
      this.stops.push(
        this.runner.watchSeq(seq, (deliveries) =>
          this.finish({
            failure: failed(
              this.call,
              `Step "${this.call.stepId}" was delivered ${deliveries} times and the node running it stopped each `
                + 'time without a result (killed, or crashed by the step); it was given up (STEP_MAX_DELIVER).',
              'crashed',
            ),
          }),
        ),
        this.runner.watchReconnect(() => this.reread()),
      );
      const poll = setInterval(() => this.reread(), pollMs);
      const timer = setTimeout(() => this.timedOut(), timeoutMs);
      // The workflow's signal is shared by every step in flight: one listener on it, however many steps follow it.
      this.stops.push(
        () => clearInterval(poll),
        () => clearTimeout(timer),
        watchAbort(this.signal, () => this.cancel()),
      );
      if (this.signal.aborted) this.cancel();
    });
  }

  close(): void {
    this.subscription.unsubscribe();
    for (const stop of this.stops) stop();
  }

  private finish(outcome: Outcome): void {
    if (!this.settle) {
      this.early ??= outcome;
      return;
    }
    const settle = this.settle;
    this.settle = () => undefined;
    settle(outcome);
  }

  private progress(data: Uint8Array): void {
    try {
      this.onProgress(JSON.parse(new TextDecoder().decode(data)) as StepProgress);
    } catch {
      // A progress notice that cannot be read is only a missed progress line; the result comes by the record.
    }
  }

  private done(data: Uint8Array): void {
    if (data.byteLength === 0) {
      this.reread();
      return;
    }
    try {
      this.finish({ record: decodeJson(resultRecordSchema, data, 'A step result notice') });
    } catch {
      // The record in KV is the source of truth; read it instead.
      this.reread();
    }
  }

  private reread(): void {
    this.runner.readResult(this.dispatchId).then(
      (record) => {
        if (record) this.finish({ record });
      },
      () => undefined, // the broker is away; the next poll or the reconnection reads again
    );
  }

  private publishCancel(): void {
    try {
      this.runner.settings.bus.publish(noticeSubject(this.dispatchId, 'cancel'), new Uint8Array());
    } catch {
      // Unreachable broker: the node finishes the step and records it; nobody waits for it.
    }
  }

  private cancel(): void {
    this.publishCancel();
    const grace = setTimeout(
      () => this.finish({ failure: failed(this.call, `Step "${this.call.stepId}" was cancelled.`, 'cancelled') }),
      CANCEL_GRACE_MS,
    );
    this.stops.push(() => clearTimeout(grace));
  }

  private timedOut(): void {
    this.publishCancel();
    const seconds = this.runner.settings.timeoutMs / 1000;
    this.finish({
      failure: failed(
        this.call,
        `Step "${this.call.stepId}" had no result from agent "${this.call.role}" after ${seconds} s (MESH_STEP_TIMEOUT); `
          + 'is a node serving it running? `automesh agents` lists who serves what.',
      ),
    });
  }
}

function failed(call: StepCall, error: string, category: Envelope['errorCategory'] = 'mesh'): Envelope {
  return unranStepEnvelope(call, 'failure', error, category);
}

const now = (): string => new Date().toISOString();

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
