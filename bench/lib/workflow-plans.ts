/**
 * The workflows bench/workflow.ts runs: the 100-step DAG, a chain, independent steps; each step with its weight and
 * the output the sums of weights give it, so a run's outputs can be checked.
 */
import type { WorkflowStep } from '../../src/index.js';

/** Level widths of the DAG: 100 steps, depth 5. */
export const LEVEL_WIDTHS = [1, 20, 39, 39, 1] as const;

export interface PlannedStep {
  id: string;
  level: number;
  weight: number;
  deps: string[];
}

export interface Plan {
  name: string;
  steps: PlannedStep[];
  /** Levels (longest path from a root, counted in steps). */
  depth: number;
  /** What each step must output. */
  expected: Map<string, number>;
}

export function planOf(name: string, steps: PlannedStep[]): Plan {
  const expected = new Map<string, number>();
  for (const step of steps) {
    // Steps are listed level by level, so every dependency is already known.
    expected.set(
      step.id,
      step.deps.reduce((sum, d) => sum + (expected.get(d) as number), step.weight),
    );
  }
  return { name, steps, depth: Math.max(...steps.map((s) => s.level)) + 1, expected };
}

/**
 * The 100-step DAG: level 0 the root; level 1, 20 steps on the root (fan-out 20); level 2, 39 steps on two
 * level-1 steps each; level 3, 39 steps on three level-2 steps each; level 4, one step on all of level 3 (fan-in).
 */
export function dagPlan(): Plan {
  const ids = LEVEL_WIDTHS.map((width, level) =>
    Array.from({ length: width }, (_, i) => `L${level}-${String(i).padStart(2, '0')}`),
  );
  const at = (level: number, i: number): string => {
    const row = ids[level] as string[];
    return row[i % row.length] as string;
  };
  const steps: PlannedStep[] = [];
  let weight = 0;
  LEVEL_WIDTHS.forEach((width, level) => {
    for (let i = 0; i < width; i++) {
      let deps: string[];
      if (level === 0) deps = [];
      else if (level === 1) deps = [at(0, 0)];
      else if (level === 2) deps = [at(1, i), at(1, i + 1)];
      else if (level === 3) deps = [at(2, i), at(2, i + 1), at(2, i + 2)];
      else deps = [...(ids[3] as string[])];
      steps.push({ id: at(level, i), level, weight: ++weight, deps });
    }
  });
  return planOf('dag100', steps);
}

export function chainPlan(length: number): Plan {
  return planOf(
    `chain${length}`,
    Array.from({ length }, (_, i) => ({
      id: `C${i}`,
      level: i,
      weight: i + 1,
      deps: i === 0 ? [] : [`C${i - 1}`],
    })),
  );
}

export function independentPlan(n: number): Plan {
  return planOf(
    `independent${n}`,
    Array.from({ length: n }, (_, i) => ({
      id: `I${String(i).padStart(3, '0')}`,
      level: 0,
      weight: i + 1,
      deps: [],
    })),
  );
}

export function stepsOf(plan: Plan, role: string): WorkflowStep[] {
  return plan.steps.map((s) => ({
    id: s.id,
    agent: role,
    task: `[wf-bench ${s.id}] Add this step's weight to the outputs of the ${s.deps.length} steps it depends on.`,
    dependsOn: s.deps,
    context: { weight: s.weight },
  }));
}

export function describePlan(plan: Plan): string {
  const edges = plan.steps.reduce((n, s) => n + s.deps.length, 0);
  const lines = [
    `${plan.steps.length} steps, depth ${plan.depth} (steps on the longest path), ${edges} dependency edges:`,
  ];
  const children = new Map<string, number>();
  for (const s of plan.steps) for (const d of s.deps) children.set(d, (children.get(d) ?? 0) + 1);
  for (let level = 0; level < plan.depth; level++) {
    const here = plan.steps.filter((s) => s.level === level);
    const depCounts = here.map((s) => s.deps.length);
    const outs = here.map((s) => children.get(s.id) ?? 0);
    const range = (v: number[]): string =>
      Math.min(...v) === Math.max(...v) ? String(v[0]) : `${Math.min(...v)}-${Math.max(...v)}`;
    const first = here[0] as PlannedStep;
    lines.push(
      `  level ${level}: ${String(here.length).padStart(2)} step${here.length === 1 ? ' ' : 's'} `
        + `(${first.id}${here.length > 1 ? ` .. ${(here.at(-1) as PlannedStep).id}` : ''}), `
        + `${range(depCounts)} ${depCounts.every((c) => c === 1) ? 'dependency' : 'dependencies'} each`
        + `${level === 0 ? '' : ` on level ${level - 1}`}, ${range(outs)} ${outs.every((c) => c === 1) ? 'dependant' : 'dependants'} each`,
    );
  }
  const final = plan.steps.at(-1) as PlannedStep;
  lines.push(`  expected final output (${final.id}): ${plan.expected.get(final.id)}`);
  return lines.join('\n');
}
