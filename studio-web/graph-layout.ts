// Where each step of a workflow's graph goes: a column per depth (a step sits one column right of its deepest
// dependency), rows in step order within a column. Steps whose dependencies are unknown (a header written before
// they were recorded) stack in one column.

export interface Placed {
  stepId: string;
  column: number;
  row: number;
}

export interface Edge {
  from: string;
  to: string;
}

export function layoutGraph(steps: ReadonlyArray<{ stepId: string; dependsOn: string[] | null }>): {
  placed: Placed[];
  edges: Edge[];
} {
  const deps = new Map(steps.map((s) => [s.stepId, s.dependsOn ?? []]));
  const depth = new Map<string, number>();
  const depthOf = (id: string, seen: Set<string>): number => {
    const known = depth.get(id);
    if (known !== undefined) return known;
    if (seen.has(id)) return 0; // a cycle cannot be stored, but a hand-edited header must not hang the page
    seen.add(id);
    const parents = (deps.get(id) ?? []).filter((d) => deps.has(d));
    const value = parents.length === 0 ? 0 : 1 + Math.max(...parents.map((d) => depthOf(d, seen)));
    depth.set(id, value);
    return value;
  };
  const rows = new Map<number, number>();
  const placed = steps.map((s) => {
    const column = depthOf(s.stepId, new Set());
    const row = rows.get(column) ?? 0;
    rows.set(column, row + 1);
    return { stepId: s.stepId, column, row };
  });
  const edges = steps.flatMap((s) =>
    (s.dependsOn ?? []).filter((d) => deps.has(d)).map((from) => ({ from, to: s.stepId })),
  );
  return { placed, edges };
}
