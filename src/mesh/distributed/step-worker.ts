/**
 * The node side of distributed workflows: takes the step jobs of every AutoAgent and CustomAgent this process has
 * (work-queue topic = role, shared with the other nodes that serve the role), runs each step, records its result,
 * then acknowledges.
 *
 * Order matters for what survives: the result record is written before the acknowledgement, so a node killed
 * between the two costs nothing (the job comes back, the next node finds the result and only acknowledges); a node
 * killed before writing stops sending heartbeats, so after `STEP_ACK_WAIT` the job goes to another node. While a step
 * runs, a heartbeat every third of `STEP_ACK_WAIT` keeps a slow step from being taken for a dead one.
 */
import { z } from 'zod';
import type { Envelope } from '../../agent/envelope.js';
import type { TaskInput } from '../../agent/pipeline.js';
import type { Bus, BusSubscription, KvBucket } from '../../transport/bus.js';
import { isBusError } from '../../transport/bus-errors.js';
import type { Job, JobTaker, WorkQueue } from '../../transport/work-queue.js';
import { type StepProgress, unranStepEnvelope } from '../step-runner.js';
import {
  CANCEL_SUBJECTS,
  decodeJson,
  encodeJson,
  noticeSubject,
  type ResultRecord,
  resultKey,
  resultRecordSchema,
  type StepJob,
  stepJobSchema,
} from './step-job.js';

/**
 * What runs a step job on this node: an AutoAgent as it is, a CustomAgent through `customStepAgent`. A step its
 * node's stop cancelled ends `cancelled` (and goes to another node); a failure is an envelope, never a throw.
 */
export interface StepAgent {
  readonly role: string;
  executeStep(input: TaskInput): Promise<Envelope>;
}

export interface StepWorkerOptions {
  queue: WorkQueue;
  bus: Bus;
  steps: KvBucket;
  agents: ReadonlyMap<string, StepAgent>;
  node: string;
  instanceId: string;
  ackWaitMs: number;
  concurrency: number;
  /** Problems the node survives (a malformed job, a notice that could not be sent). */
  onWarning: (message: string) => void;
}

/** A step running on this node: its abort, and whether its result got recorded (settles when it ends). */
interface Running {
  controller: AbortController;
  recorded: Promise<boolean>;
}

/** How long a finished step's result is retried while the broker cannot be reached. */
const RECORD_PATIENCE_MS = 30_000;

/** A failure that passes once the broker is back (restarting, a reconnect under way). */
function isBrokerAway(err: unknown): boolean {
  return isBusError(err, 'timeout') || isBusError(err, 'connection_failed') || isBusError(err, 'no_responders');
}

export class StepWorker {
  private readonly takers: JobTaker[] = [];
  /** The steps running here, by dispatch id: what a cancel notice aborts, and what a second delivery waits for. */
  private readonly running = new Map<string, Running>();
  private cancels: BusSubscription | null = null;
  private stopping = false;

  private constructor(private readonly options: StepWorkerOptions) {}

  /** Starts taking the jobs of every agent in `options.agents`. */
  static async start(options: StepWorkerOptions): Promise<StepWorker> {
    const worker = new StepWorker(options);
    worker.cancels = options.bus.subscribe(CANCEL_SUBJECTS, (message) => {
      const running = worker.running.get(message.subject.split('.')[2] ?? '');
      running?.controller.abort(new Error('the workflow cancelled the step'));
    });
    try {
      for (const agent of options.agents.values()) {
        worker.takers.push(
          await options.queue.take(agent.role, (job) => worker.handle(agent, job), {
            concurrency: options.concurrency,
          }),
        );
      }
    } catch (err) {
      await worker.stop();
      throw err;
    }
    return worker;
  }

  /** Takes no more jobs; waits for the steps running here (the mesh's stop mode decides whether they finish). */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.takers.map((taker) => taker.stop()));
    this.cancels?.unsubscribe();
  }

  private async handle(agent: StepAgent, job: Job): Promise<void> {
    let step: StepJob;
    try {
      step = decodeJson(stepJobSchema, job.data, `Step job ${job.id} for agent "${agent.role}"`);
    } catch (err) {
      // Another delivery would be just as malformed: give it up, and say so where someone looks.
      this.options.onWarning(`${(err as Error).message}; it was dropped.`);
      job.term();
      return;
    }
    const stored = await this.storedResult(step.dispatchId);
    if (stored) {
      // An earlier delivery ran the step and recorded it, and its node died before acknowledging.
      this.notifyDone(stored);
      await job.ack();
      return;
    }
    const heartbeat = setInterval(() => job.working(), Math.max(10, this.options.ackWaitMs / 3));
    try {
      const already = this.running.get(step.dispatchId);
      if (already) {
        // Delivered again while this node still runs it (heartbeats lost while the broker restarted): running it
        // twice would pay the model twice. This delivery ends the way the running one does.
        if (await already.recorded) await job.ack();
        else job.nak(this.options.ackWaitMs);
        return;
      }
      const controller = new AbortController();
      let settle: (recorded: boolean) => void = () => undefined;
      const recorded = new Promise<boolean>((resolve) => {
        settle = resolve;
      });
      this.running.set(step.dispatchId, { controller, recorded });
      try {
        settle(await this.runAndRecord(agent, step, job, controller));
      } finally {
        settle(false);
        this.running.delete(step.dispatchId);
      }
    } finally {
      clearInterval(heartbeat);
    }
  }

  /** Runs the step, records its result and acknowledges; says whether the result was recorded. */
  private async runAndRecord(agent: StepAgent, step: StepJob, job: Job, controller: AbortController): Promise<boolean> {
    const envelope = await this.runStep(agent, step, controller.signal);
    if (envelope.errorCategory === 'cancelled' && !controller.signal.aborted) {
      // Not the workflow cancelled it but this node, stopping (mesh.stop in cancel mode): another node runs it.
      job.nak();
      return false;
    }
    // The workflow's budget ran out: the orchestrator starts no more steps, as when a local step is refused.
    if (envelope.errorCategory === 'budget') {
      this.notifyProgress(step, { type: 'budget-refused', message: envelope.error ?? 'the workflow budget ran out' });
    }
    let record: ResultRecord;
    try {
      record = await this.recordPatiently(step, envelope);
    } catch (err) {
      // The broker stayed unreachable: the job comes back, here or elsewhere, and runs again.
      this.options.onWarning(
        `Step "${step.stepId}" of workflow "${step.workflowId}" ran here but its result could not be recorded `
          + `(${err instanceof Error ? err.message : String(err)}); it will be delivered again.`,
      );
      job.nak(this.options.ackWaitMs);
      return false;
    }
    this.notifyDone(record);
    await job.ack();
    return true;
  }

  /**
   * Records the result, trying again for a while when the broker cannot be reached: a result already paid for is
   * worth waiting for a reconnect, rather than running the step again.
   */
  private async recordPatiently(step: StepJob, envelope: Envelope): Promise<ResultRecord> {
    const deadline = Date.now() + RECORD_PATIENCE_MS;
    for (let pause = 100; ; pause = Math.min(pause * 2, 2_000)) {
      try {
        return await this.record(step, envelope);
      } catch (err) {
        if (Date.now() + pause > deadline || !isBrokerAway(err)) throw err;
        await new Promise((resolve) => setTimeout(resolve, pause));
      }
    }
  }

  private async storedResult(dispatchId: string): Promise<ResultRecord | null> {
    const entry = await this.options.steps.get(resultKey(dispatchId));
    if (!entry) return null;
    try {
      return decodeJson(resultRecordSchema, entry.value, `The result record of dispatch ${dispatchId}`);
    } catch (err) {
      // A damaged record is as good as none: the step runs again and overwrites it.
      this.options.onWarning(`${(err as Error).message}; the step runs again.`);
      return null;
    }
  }

  /** Runs the step with this node's agent; a step that cannot even start is a failed envelope, never a throw. */
  private async runStep(agent: StepAgent, step: StepJob, signal: AbortSignal): Promise<Envelope> {
    const notify = (event: StepProgress): void => this.notifyProgress(step, event);
    try {
      const outputSchema = step.outputSchema ? z.fromJSONSchema(step.outputSchema as never) : undefined;
      return await agent.executeStep({
        task: step.task,
        context: step.context,
        stepId: step.stepId,
        dependencies: step.dependencies,
        signal,
        ...(outputSchema ? { outputSchema } : {}),
        ...(step.budgetUsd !== null ? { budgetUsd: step.budgetUsd } : {}),
        onRepair: (info) => notify({ type: 'repaired', ...info }),
        onLlmEvent: (event) => notify({ type: 'llm', event }),
      });
    } catch (err) {
      if (this.stopping) throw err;
      const why = err instanceof Error ? err.message : String(err);
      return unranStepEnvelope(
        { role: step.role, stepId: step.stepId },
        'failure',
        `Step "${step.stepId}" could not run on node "${this.options.node}": ${why}`,
        'crashed',
      );
    }
  }

  /** Writes the result record; an envelope too large for the bus is recorded as a failure that says so. */
  private async record(step: StepJob, envelope: Envelope): Promise<ResultRecord> {
    const record = this.resultRecord(step, envelope);
    try {
      await this.options.steps.put(resultKey(step.dispatchId), encodeJson(record));
      return record;
    } catch (err) {
      if (!isBusError(err, 'payload_too_large')) throw err;
      const failed = this.resultRecord(step, {
        ...envelope,
        status: 'failure',
        output: null,
        logs: [],
        attempts: [],
        errorCategory: 'output',
        error:
          `Step "${step.stepId}" produced a result too large to send back over the mesh (${err.message}); `
          + 'return less data from the step (store large data in this.blobs and return its name).',
      });
      await this.options.steps.put(resultKey(step.dispatchId), encodeJson(failed));
      return failed;
    }
  }

  private resultRecord(step: StepJob, envelope: Envelope): ResultRecord {
    return {
      v: 1,
      dispatchId: step.dispatchId,
      node: this.options.node,
      instanceId: this.options.instanceId,
      envelope: { ...envelope, stepId: step.stepId } as unknown as Record<string, unknown>,
    };
  }

  private notifyProgress(step: StepJob, event: StepProgress): void {
    this.publish(noticeSubject(step.dispatchId, 'progress'), encodeJson(event), step);
  }

  /** The fast path to the orchestrator; when the record is too large for a notice, an empty one says "read KV". */
  private notifyDone(record: ResultRecord): void {
    const data = encodeJson(record);
    const fits = data.byteLength < this.options.bus.maxPayload - 1024;
    this.publish(noticeSubject(record.dispatchId, 'done'), fits ? data : new Uint8Array(), null);
  }

  private publish(subject: string, data: Uint8Array, step: StepJob | null): void {
    try {
      this.options.bus.publish(subject, data);
    } catch (err) {
      // Notices are the fast path only: the orchestrator also reads the result record, so a lost one costs time.
      const what = step ? `a progress notice of step "${step.stepId}"` : 'a step result notice';
      this.options.onWarning(`Could not send ${what} (${err instanceof Error ? err.message : String(err)}).`);
    }
  }
}
