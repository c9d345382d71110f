/**
 * The workflow scheduler: which step starts next and which is skipped, from the steps' dependencies, the ends
 * announced so far, the concurrency limit and whatever halts the run (a failed save, a spent budget, a cancel).
 * Pure: no agents, no I/O, no clock. The engine asks it what to do, does it, and tells it what ended.
 *
 * A step's end counts only once the engine announces it (after its record was saved): a dependant starts on
 * durable state, and a slot frees only then, so no step starts after a save that failed.
 */

/** What the scheduler needs of a step. */
export interface SchedulableStep {
  id: string;
  dependsOn: readonly string[];
}

export type EndStatus = 'success' | 'failure' | 'skipped';

/** Why a step is skipped instead of started. */
export type SkipReason =
  /** The workflow's state could not be saved (or its lease was lost): nothing more starts. */
  | { kind: 'storage' }
  /** The workflow's budget refused a call: steps not yet started are not started. */
  | { kind: 'budget' }
  /** A dependency did not succeed (`status` is how it ended). */
  | { kind: 'dependency'; dependency: string; status: 'failure' | 'skipped' }
  /** The workflow was cancelled before the step started. */
  | { kind: 'cancelled' };

export type Decision = { kind: 'start'; stepId: string } | { kind: 'skip'; stepId: string; reason: SkipReason };

/** What stops steps from starting, as the engine knows it at the time of {@link Scheduler.next}. */
export interface Halts {
  storage: boolean;
  budget: boolean;
  cancelled: boolean;
}

export const NO_HALTS: Halts = Object.freeze({ storage: false, budget: false, cancelled: false });

export class Scheduler {
  /** Steps not yet started or skipped, in step order. */
  private readonly waiting: SchedulableStep[];
  /** Started and not yet ended: each holds a concurrency slot. */
  private readonly running = new Set<string>();
  /** Skipped, their end not yet announced (they hold no slot). */
  private readonly skipping = new Set<string>();
  private readonly ends = new Map<string, EndStatus>();

  /**
   * `ended` holds steps that are done before the run starts (recovered from an earlier run), with how they ended.
   * Throws for a concurrency below 1, a duplicate id or a dependency on an unknown step.
   */
  constructor(
    steps: readonly SchedulableStep[],
    readonly concurrency: number,
    ended: ReadonlyMap<string, EndStatus> = new Map(),
  ) {
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new RangeError(`Workflow concurrency must be a whole number >= 1; got ${String(concurrency)}.`);
    }
    const ids = new Set<string>();
    for (const step of steps) {
      if (ids.has(step.id)) throw new Error(`Scheduler: duplicate step id "${step.id}".`);
      ids.add(step.id);
    }
    for (const step of steps) {
      const unknown = step.dependsOn.find((d) => !ids.has(d));
      if (unknown !== undefined) throw new Error(`Scheduler: step "${step.id}" depends on unknown step "${unknown}".`);
    }
    for (const [id, status] of ended) {
      if (ids.has(id)) this.ends.set(id, status);
    }
    this.waiting = steps.filter((s) => !this.ends.has(s.id));
  }

  /**
   * The steps to start or skip now, in step order. Each is taken off the waiting list: a started step holds a
   * slot until {@link ended}; a skipped one holds none. Steps whose dependencies' ends are not all announced wait.
   * Priority, as a person would expect it: a failed save beats a spent budget, which beats a failed dependency,
   * which beats a cancel.
   */
  next(halts: Halts = NO_HALTS): Decision[] {
    const decisions: Decision[] = [];
    for (let i = 0; i < this.waiting.length; ) {
      const step = this.waiting[i] as SchedulableStep;
      const decision = this.decide(step, halts);
      if (decision === null) {
        i++;
        continue;
      }
      this.waiting.splice(i, 1);
      if (decision.kind === 'start') this.running.add(step.id);
      else this.skipping.add(step.id);
      decisions.push(decision);
    }
    return decisions;
  }

  private decide(step: SchedulableStep, halts: Halts): Decision | null {
    if (!step.dependsOn.every((d) => this.ends.has(d))) return null;
    const skip = (reason: SkipReason): Decision => ({ kind: 'skip', stepId: step.id, reason });
    if (halts.storage) return skip({ kind: 'storage' });
    if (halts.budget) return skip({ kind: 'budget' });
    for (const dependency of step.dependsOn) {
      const status = this.ends.get(dependency);
      if (status === 'failure' || status === 'skipped') return skip({ kind: 'dependency', dependency, status });
    }
    if (halts.cancelled) return skip({ kind: 'cancelled' });
    if (this.running.size >= this.concurrency) return null;
    return { kind: 'start', stepId: step.id };
  }

  /** The step's end was announced: its slot frees and its dependants may become ready. */
  ended(stepId: string, status: EndStatus): void {
    if (!this.running.delete(stepId) && !this.skipping.delete(stepId)) {
      throw new Error(`Scheduler: step "${stepId}" ended but was neither started nor skipped.`);
    }
    this.ends.set(stepId, status);
  }

  /** How a step ended, once announced. */
  statusOf(stepId: string): EndStatus | undefined {
    return this.ends.get(stepId);
  }

  /** Steps started whose end is not yet announced. */
  get runningCount(): number {
    return this.running.size;
  }

  /** True when every step has ended (nothing waits, runs, or is being skipped). */
  get done(): boolean {
    return this.waiting.length === 0 && this.running.size === 0 && this.skipping.size === 0;
  }
}
