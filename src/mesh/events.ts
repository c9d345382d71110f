/** Typed mesh events, for progress displays and user hooks. */
import { EventEmitter } from 'node:events';
import type { Envelope } from '../agent/envelope.js';
import type { TaskWarning } from '../agent/warning.js';

/**
 * Something on the mesh went wrong that this process survives: a malformed catalog entry another process wrote
 * (skipped), a heartbeat that could not be written, a host found dead and cleaned up.
 */
export interface MeshWarning {
  kind: 'mesh';
  message: string;
}

import type { LlmCallEvent } from '../llm/call-events.js';

export interface WorkflowSummary {
  workflowId: string;
  steps: number;
  succeeded: number;
  failed: number;
  skipped: number;
  /** Steps whose earlier result was reused on resume. */
  recovered: number;
  /** Steps answered from the code registry with no LLM call. */
  cached: number;
  /** Spent by this run (recovered steps made no call and are not counted here). */
  tokens: { input: number; output: number; total: number };
  /** This run's cost, summed; null when any step that ran used a model with no known price. */
  costUsd: number | null;
  /** What the recovered steps spent in the earlier runs that produced them. */
  recoveredTokens: { input: number; output: number; total: number };
  /** The recovered steps' earlier cost; null when one of them used a model with no known price. */
  recoveredCostUsd: number | null;
  /** Wall-clock seconds of this run. */
  executionTime: number;
  cancelled: boolean;
}

export interface MeshEvents {
  'workflow:started': { workflowId: string; steps: number; resumed: boolean };
  'workflow:finished': { workflowId: string; summary: WorkflowSummary };
  'step:started': { workflowId: string; stepId: string; role: string; task: string };
  'step:repaired': {
    workflowId: string;
    stepId: string;
    role: string;
    repair: number;
    errorCategory: string;
    error: string;
  };
  'step:finished': { workflowId: string; stepId: string; envelope: Envelope };
  'step:failed': { workflowId: string; stepId: string; envelope: Envelope };
  'step:skipped': { workflowId: string; stepId: string; reason: string; envelope: Envelope };
  'step:recovered': { workflowId: string; stepId: string; envelope: Envelope };
  /** Something a task survived (e.g. a damaged registry record it skipped). Written to stderr when nobody listens. */
  warning: TaskWarning | MeshWarning;
  /** A step's model call is retried on the same provider after `delayMs` (see `LlmCallEvent`). */
  'llm:retry': { workflowId: string; stepId: string; role: string } & LlmCallEvent;
  /** A step's model call moves on to the next provider of the chain. */
  'llm:failover': { workflowId: string; stepId: string; role: string } & LlmCallEvent;
}

export type MeshEventName = keyof MeshEvents;

/** An EventEmitter whose event names and payloads are checked by the compiler. */
export class MeshEventEmitter {
  private readonly emitter = new EventEmitter();

  on<K extends MeshEventName>(event: K, listener: (payload: MeshEvents[K]) => void): this {
    this.emitter.on(event, listener);
    return this;
  }

  once<K extends MeshEventName>(event: K, listener: (payload: MeshEvents[K]) => void): this {
    this.emitter.once(event, listener);
    return this;
  }

  off<K extends MeshEventName>(event: K, listener: (payload: MeshEvents[K]) => void): this {
    this.emitter.off(event, listener);
    return this;
  }

  /**
   * Delivers an event. A listener that throws must not break the workflow it observes: its error is
   * reported on stderr with the event name, and the workflow goes on.
   */
  emit<K extends MeshEventName>(event: K, payload: MeshEvents[K]): void {
    if (event === 'warning' && this.emitter.listenerCount(event) === 0) {
      process.stderr.write(`automesh: warning: ${(payload as TaskWarning | MeshWarning).message}\n`);
    }
    for (const listener of this.emitter.listeners(event)) {
      try {
        (listener as (p: MeshEvents[K]) => void)(payload);
      } catch (err) {
        process.stderr.write(
          `automesh: a listener of "${event}" threw: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
        );
      }
    }
  }
}
