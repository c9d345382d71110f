/**
 * Workflow specs: steps `{ id?, agent, task, dependsOn?, context? }` (`depends_on` accepted), validated as a
 * whole before anything runs. Every problem is reported at once: duplicate ids, unknown agents, unknown
 * dependencies, self-dependencies and cycles (named, e.g. `a → b → c → a`).
 */
import { createHash } from 'node:crypto';
import type { z } from 'zod';
import { findNonJsonData } from '../codegen/json-data.js';
import { requireZod4Schema, stableJson, toJsonSchema } from '../codegen/json-schema.js';
import { AutomeshError } from '../core/errors.js';
import type { StepSchema } from './step-runner.js';

/** One step as a user writes it. */
export interface WorkflowStep {
  /** Unique within the workflow; default `step<index>`. */
  id?: string;
  /** A role, or a capability of some agent in the mesh. */
  agent: string;
  task: string;
  /** Step ids or indices this step needs; their envelopes are in its context. */
  dependsOn?: Array<string | number>;
  /** Alias of `dependsOn` (JarvisCore's spelling). */
  depends_on?: Array<string | number>;
  /** Extra context for this step. */
  context?: Record<string, unknown>;
  /** A zod 4 schema the step's result must match (overrides the agent's). */
  outputSchema?: z.ZodType;
}

/** A step after validation. */
export interface ResolvedStep {
  index: number;
  id: string;
  /** The role of the agent that runs it. */
  role: string;
  /** What the user wrote (a role or a capability). */
  agent: string;
  task: string;
  dependsOn: string[];
  context: Record<string, unknown>;
  outputSchema?: z.ZodType;
  /** Hash of everything that decides the step's result; a resumed run reuses a result only if it matches. */
  specHash: string;
}

/**
 * A step as the workflow engine sees it: JSON data only. Its output schema is JSON Schema plus a reference that
 * whoever runs the step resolves to the schema the user gave (see `step-runner.ts`).
 */
export interface PlannedStep {
  index: number;
  id: string;
  role: string;
  task: string;
  dependsOn: string[];
  context: Record<string, unknown>;
  outputSchema: StepSchema | null;
  specHash: string;
}

export interface AgentDirectory {
  /** Role of the agent for a role or capability name, or undefined. */
  resolve(name: string): string | undefined;
  /** For error messages. */
  describe(): string;
}

const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** Keys of a step's context that the engine fills; a step with such an id would be hidden behind them. */
const RESERVED_IDS = ['previousStepResults', 'workflowId', 'stepId'];

/**
 * A workflow spec with problems, every one listed in `problems`. Code `invalid-workflow`; `notFound` names the
 * agents that no agent of this process or of the mesh serves (OpenAgentMesh's `not_found`).
 */
export class WorkflowValidationError extends AutomeshError<'invalid-workflow'> {
  constructor(
    workflowId: string,
    readonly problems: string[],
    readonly notFound: string[] = [],
  ) {
    super(
      'invalid-workflow',
      `Workflow "${workflowId}" is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'}): ${problems.join('; ')}.`,
    );
    this.name = 'WorkflowValidationError';
  }
}

export function checkWorkflowId(workflowId: unknown): string {
  if (typeof workflowId !== 'string' || !SAFE_ID.test(workflowId)) {
    throw new TypeError(
      `Workflow id ${JSON.stringify(workflowId)} is invalid: use letters, digits, ".", "-" or "_" (at most 128), starting with a letter or digit.`,
    );
  }
  return workflowId;
}

/** Finds one cycle in the dependency graph, as a list of ids that starts and ends with the same id. */
function findCycles(steps: Array<{ id: string; deps: string[] }>): string[][] {
  // Duplicate ids are reported elsewhere; here their dependencies are merged so no cycle hides behind one.
  const byId = new Map<string, { id: string; deps: string[] }>();
  for (const step of steps) {
    const known = byId.get(step.id);
    byId.set(step.id, known ? { id: step.id, deps: [...known.deps, ...step.deps] } : step);
  }
  const state = new Map<string, 'visiting' | 'done'>();
  const cycles: string[][] = [];
  const path: string[] = [];
  const visit = (id: string): void => {
    state.set(id, 'visiting');
    path.push(id);
    for (const dep of byId.get(id)?.deps ?? []) {
      if (!byId.has(dep) || dep === id) continue;
      if (state.get(dep) === 'visiting') {
        const start = path.indexOf(dep);
        cycles.push([...path.slice(start), dep]);
      } else if (!state.has(dep)) {
        visit(dep);
      }
    }
    path.pop();
    state.set(id, 'done');
  };
  for (const step of steps) if (!state.has(step.id)) visit(step.id);
  return cycles;
}

/** Validates and resolves a workflow; throws {@link WorkflowValidationError} listing every problem. */
export function resolveWorkflow(workflowId: string, steps: unknown, agents: AgentDirectory): ResolvedStep[] {
  checkWorkflowId(workflowId);
  if (!Array.isArray(steps) || steps.length === 0) {
    throw new WorkflowValidationError(workflowId, [
      'steps must be a non-empty array of { agent, task, dependsOn?, context? }',
    ]);
  }
  const problems: string[] = [];
  const notFound: string[] = [];
  const ids: string[] = steps.map((raw, index) => {
    const id = (raw as WorkflowStep | null)?.id;
    return id === undefined ? `step${index}` : String(id);
  });
  const seen = new Map<string, number>();
  ids.forEach((id, index) => {
    const label = `step ${index}`;
    if (!SAFE_ID.test(id)) problems.push(`${label}: id ${JSON.stringify(id)} must be letters, digits, ".", "-" or "_"`);
    if (RESERVED_IDS.includes(id))
      problems.push(`${label}: id "${id}" is reserved (a dependant's context uses that key); rename the step`);
    const first = seen.get(id);
    if (first !== undefined) problems.push(`duplicate step id "${id}" (steps ${first} and ${index})`);
    else seen.set(id, index);
  });

  const parsed = steps.map((raw, index) => {
    const step = (raw ?? {}) as WorkflowStep;
    const id = ids[index] as string;
    const label = `step "${id}"`;
    if (raw === null || typeof raw !== 'object') problems.push(`step ${index} must be an object { agent, task }`);
    let role: string | undefined;
    if (typeof step.agent !== 'string' || step.agent.trim() === '') {
      problems.push(`${label}: agent is required (a role or a capability)`);
    } else {
      role = agents.resolve(step.agent);
      if (!role) {
        notFound.push(step.agent);
        problems.push(`${label}: unknown agent "${step.agent}", not_found (${agents.describe()})`);
      }
    }
    if (typeof step.task !== 'string' || step.task.trim() === '')
      problems.push(`${label}: task is required (a non-empty string)`);
    if (
      step.context !== undefined
      && (step.context === null || typeof step.context !== 'object' || Array.isArray(step.context))
    ) {
      problems.push(`${label}: context must be an object`);
    } else if (step.context !== undefined) {
      // The context reaches the sandbox as JSON: what JSON cannot hold is refused here, before anything runs.
      const bad = findNonJsonData(step.context, `steps[${index}].context`);
      if (bad) problems.push(`${label}: ${bad}`);
    }
    if (step.dependsOn !== undefined && step.depends_on !== undefined) {
      problems.push(`${label}: give dependsOn or depends_on, not both`);
    }
    const rawDeps = step.dependsOn ?? step.depends_on ?? [];
    const deps: string[] = [];
    if (!Array.isArray(rawDeps)) {
      problems.push(`${label}: dependsOn must be a list of step ids or indices`);
    } else {
      for (const dep of rawDeps) {
        if (typeof dep === 'number') {
          if (!Number.isInteger(dep) || dep < 0 || dep >= steps.length) {
            problems.push(`${label}: depends on step index ${dep}, but indices run from 0 to ${steps.length - 1}`);
          } else {
            deps.push(ids[dep] as string);
          }
        } else if (typeof dep === 'string') {
          if (!ids.includes(dep))
            problems.push(`${label}: depends on unknown step "${dep}" (steps are ${ids.join(', ')})`);
          else deps.push(dep);
        } else {
          problems.push(`${label}: dependsOn entries must be step ids or indices`);
        }
      }
    }
    if (deps.includes(id)) problems.push(`${label}: depends on itself`);
    let outputSchema: z.ZodType | undefined;
    try {
      outputSchema =
        step.outputSchema === undefined ? undefined : requireZod4Schema(step.outputSchema, `${label}: outputSchema`);
    } catch (err) {
      problems.push((err as Error).message);
    }
    return {
      index,
      id,
      role,
      agent: step.agent,
      task: step.task,
      deps: [...new Set(deps)],
      context: step.context ?? {},
      outputSchema,
    };
  });

  for (const cycle of findCycles(parsed.map((p) => ({ id: p.id, deps: p.deps })))) {
    problems.push(`dependency cycle: ${cycle.join(' → ')}`);
  }
  if (problems.length > 0) throw new WorkflowValidationError(workflowId, problems, [...new Set(notFound)]);

  const hashes = new Map<string, string>();
  const resolved = parsed.map(
    (p): ResolvedStep => ({
      index: p.index,
      id: p.id,
      role: p.role as string,
      agent: p.agent,
      task: p.task,
      dependsOn: p.deps,
      context: p.context as Record<string, unknown>,
      specHash: '',
      ...(p.outputSchema ? { outputSchema: p.outputSchema } : {}),
    }),
  );
  // A step's hash covers its dependencies' hashes, so changing a step invalidates everything downstream.
  const hashOf = (step: ResolvedStep): string => {
    const known = hashes.get(step.id);
    if (known) return known;
    const deps = step.dependsOn.map((d) => hashOf(resolved.find((s) => s.id === d) as ResolvedStep));
    const hash = createHash('sha256')
      .update(
        stableJson({
          role: step.role,
          task: step.task,
          context: step.context,
          deps,
          ...(step.outputSchema ? { outputSchema: toJsonSchema(step.outputSchema) } : {}),
        }),
      )
      .digest('hex');
    hashes.set(step.id, hash);
    return hash;
  };
  for (const step of resolved) step.specHash = hashOf(step);
  return resolved;
}
