// The shapes the studio's API answers with (see src/studio/data.ts and src/studio/stats.ts).

export type StepStatus = 'pending' | 'running' | 'success' | 'failure' | 'skipped';

export interface GraphStep {
  stepId: string;
  index: number;
  role: string | null;
  task: string | null;
  dependsOn: string[] | null;
  status: StepStatus;
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
  status: string;
  startedAt: string | null;
  updatedAt: string | null;
  steps: GraphStep[];
  damaged: Array<{ kind: string; id: string; reason: string }>;
}

export interface WorkflowHeader {
  workflowId: string;
  status: string;
  stepIds: string[];
  startedAt: string;
  updatedAt: string;
}

export interface Attempt {
  code: string | null;
  error: string | null;
  errorCategory: string | null;
  provider: string | null;
  model: string | null;
  tokens: { input: number; output: number; total: number };
  durationMs: number;
  reply: string | null;
  replyTruncated: boolean;
}

export interface Envelope {
  status: string;
  output: unknown;
  code: string | null;
  repairs: number;
  executionTime: number;
  tokens: { input: number; output: number; total: number };
  costUsd: number | null;
  functionId: string | null;
  error: string | null;
  errorCategory: string | null;
  attempts: Attempt[];
  cached: boolean;
  provider: string | null;
  model: string | null;
  logs?: string[];
}

export interface StepRecord {
  stepId: string;
  role: string;
  task: string;
  status: StepStatus;
  envelope: Envelope | null;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface StoredResult {
  resultId: string;
  role: string;
  task: string;
  createdAt: string;
  envelope: Envelope;
}

export interface ResultSummary {
  resultId: string;
  role: string;
  task: string;
  status: string;
  createdAt: string;
}

export interface RegistryLine {
  id: string;
  role: string;
  task: string;
  stage: string;
  successCount: number;
  failureCount: number;
  lastUsedAt: string | null;
  codeLines: number;
  provenance: { provider: string | null; model: string | null; createdAt: string };
}

export interface RegistryEntry extends RegistryLine {
  code: string;
  lastError: string | null;
}

export interface Agent {
  name: string;
  node: string | null;
  shape: string | null;
  description: string;
  tags: string[];
}

export interface CostLine {
  tasks: number;
  succeeded: number;
  tokens: number;
  costUsd: number;
  unpriced: number;
}

export interface Stats {
  since: string;
  bucket: 'hour' | 'day';
  timeline: Array<CostLine & { start: string; failed: number }>;
  byAgent: Record<string, CostLine>;
  byModel: Record<string, CostLine>;
  repairs: {
    tasks: number;
    firstTry: number;
    cached: number;
    afterRepairs: Record<string, number>;
    failed: number;
    byCategory: Record<string, { attempts: number; repaired: number; finalFailures: number }>;
  };
  damaged: number;
}
