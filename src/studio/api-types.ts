/**
 * The shapes the studio's HTTP API answers with, in one file with no imports: the server builds them
 * (src/studio/data.ts, stats.ts, source.ts) and the page (studio-web/, compiled for the browser) reads them, so the
 * two cannot drift apart. The compiler checks the server's values against them where it builds them.
 */

export type StudioStepStatus = 'pending' | 'running' | 'success' | 'failure' | 'skipped';

/** One node of a workflow's graph: the step's place, role, dependencies and live state. */
export interface GraphStep {
  stepId: string;
  index: number;
  role: string | null;
  task: string | null;
  dependsOn: string[] | null;
  status: StudioStepStatus;
  startedAt: string | null;
  finishedAt: string | null;
  repairs: number | null;
  costUsd: number | null;
  tokens: number | null;
  errorCategory: string | null;
  cached: boolean;
}

export interface WorkflowGraph {
  workflowId: string;
  status: 'running' | 'finished' | 'failed' | 'cancelled' | 'unknown';
  startedAt: string | null;
  updatedAt: string | null;
  steps: GraphStep[];
  damaged: Array<{ kind: 'header' | 'step'; id: string; reason: string }>;
}

/** One agent as the dashboard lists it. */
export interface StudioAgent {
  name: string;
  /** The node (process) that serves it; null when only the result log names it. */
  node: string | null;
  shape: string | null;
  description: string;
  tags: string[];
}

export interface CostLine {
  tasks: number;
  succeeded: number;
  tokens: number;
  /** Summed over priced results; `unpriced` counts the results whose cost is unknown (never a guess). */
  costUsd: number;
  unpriced: number;
}

export interface TimeBucket extends CostLine {
  /** ISO time of the bucket's start. */
  start: string;
  failed: number;
}

export interface RepairNumbers {
  tasks: number;
  /** Succeeded with the first code: no repair (including code reused from the registry). */
  firstTry: number;
  /** Of those, how many reused registry code with no LLM call. */
  cached: number;
  /** `afterRepairs[n]`: succeeded after n repairs (n >= 1). */
  afterRepairs: Record<string, number>;
  failed: number;
  /**
   * Per error category: attempts that failed with it, and how many of the tasks that hit it still succeeded after
   * repairs (the repair loop fixed it) or ended failed with it.
   */
  byCategory: Record<string, { attempts: number; repaired: number; finalFailures: number }>;
}

export interface StudioStats {
  since: string;
  bucket: 'hour' | 'day';
  timeline: TimeBucket[];
  byAgent: Record<string, CostLine>;
  byModel: Record<string, CostLine>;
  repairs: RepairNumbers;
  damaged: number;
}
