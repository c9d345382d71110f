/**
 * Distributed mode's workflow dispatch, as the Mesh holds it while started: the node side (a {@link StepWorker}
 * taking the steps of this process's AutoAgents and CustomAgents) and the orchestrator side (a step runner that
 * sends a step to the work queue when some node takes jobs for its agent, and makes a plain mesh call otherwise: an
 * agent that speaks only OpenAgentMesh's request/reply, such as a Python OAM agent).
 */
import type { Envelope } from '../../agent/envelope.js';
import type { Settings } from '../../config/settings.js';
import type { KvBucket } from '../../transport/bus.js';
import type { WorkQueue } from '../../transport/work-queue.js';
import type { MeshNetwork } from '../network.js';
import { type StepCall, type StepProgress, type StepRunner, unranStepEnvelope } from '../step-runner.js';
import { DurableStepRunner } from './durable-runner.js';
import { type ResultRecord, STEPS_BUCKET, STEPS_QUEUE } from './step-job.js';
import { type StepAgent, StepWorker } from './step-worker.js';

export interface DispatchOptions {
  network: MeshNetwork;
  settings: Settings;
  /** The agents whose steps this node takes, by role. */
  agents: ReadonlyMap<string, StepAgent>;
  /** Steps for agents no node takes jobs for: a mesh call. */
  callRunner: StepRunner;
  onRemoteResult: (call: StepCall, envelope: Envelope, record: ResultRecord) => Promise<void>;
  onWarning: (message: string) => void;
}

/** Finished dispatch and result records are kept this long, then the server drops them. */
const STEP_RECORDS_TTL_MS = 7 * 24 * 3600 * 1000;

export class Dispatch implements StepRunner {
  /** Roles some node takes jobs for: a durable consumer, once made, stays. */
  private readonly queued = new Set<string>();

  private constructor(
    private readonly durable: DurableStepRunner,
    private readonly worker: StepWorker | null,
    private readonly queue: WorkQueue,
    private readonly callRunner: StepRunner,
  ) {}

  static async open(options: DispatchOptions): Promise<Dispatch> {
    const { network, settings } = options;
    const ackWaitMs = settings.STEP_ACK_WAIT * 1000;
    const queue = await network.bus.workQueue(STEPS_QUEUE, { ackWaitMs, maxDeliver: settings.STEP_MAX_DELIVER });
    const steps: KvBucket = await network.bus.kv(STEPS_BUCKET, { history: 1, ttlMs: STEP_RECORDS_TTL_MS });
    const durable = new DurableStepRunner({
      queue,
      bus: network.bus,
      steps,
      instanceId: network.instanceId,
      timeoutMs: settings.MESH_STEP_TIMEOUT * 1000,
      pollMs: Math.max(250, Math.min(5_000, ackWaitMs)),
      onRemoteResult: options.onRemoteResult,
      onWarning: options.onWarning,
    });
    try {
      const worker =
        options.agents.size === 0
          ? null
          : await StepWorker.start({
              queue,
              bus: network.bus,
              steps,
              agents: options.agents,
              node: network.node,
              instanceId: network.instanceId,
              ackWaitMs,
              concurrency: settings.WORKER_CONCURRENCY,
              onWarning: options.onWarning,
            });
      return new Dispatch(durable, worker, queue, options.callRunner);
    } catch (err) {
      durable.close();
      throw err;
    }
  }

  async run(call: StepCall, signal: AbortSignal, onProgress: (event: StepProgress) => void): Promise<Envelope> {
    let queued: boolean;
    try {
      queued = await this.takesJobs(call.role);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      return unranStepEnvelope(call, 'failure', `Step "${call.stepId}" could not be dispatched: ${why}`, 'mesh');
    }
    return (queued ? this.durable : this.callRunner).run(call, signal, onProgress);
  }

  private async takesJobs(role: string): Promise<boolean> {
    if (this.queued.has(role)) return true;
    if (!(await this.queue.hasTakers(role))) return false;
    this.queued.add(role);
    return true;
  }

  /** Takes no more steps here; resolves once the steps this node runs have been recorded (or handed back). */
  async stopTaking(): Promise<void> {
    await this.worker?.stop();
  }

  close(): void {
    this.durable.close();
  }
}
