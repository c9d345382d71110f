// The shapes the studio's API answers with. The studio's own (graph, agents, numbers) come from the server's single
// definition, src/studio/api-types.ts (types only: nothing of the server reaches the bundle); the rest below are the
// JSON views of the stored records this page reads (a subset of src/storage/types.ts and src/agent/envelope.ts).
export type {
  CostLine,
  GraphStep,
  StudioAgent as Agent,
  StudioStats as Stats,
  StudioStepStatus as StepStatus,
  WorkflowGraph,
} from '../src/studio/api-types.js';

import type { StudioStepStatus as StepStatus } from '../src/studio/api-types.js';

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
