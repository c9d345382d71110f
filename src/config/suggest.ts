/** "Did you mean …?": the known name closest to a mistyped one, for messages about unknown names. */

/** Edits (insert, delete, substitute, swap two neighbours) that turn `a` into `b`. */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) =>
    Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(
        ((d[i - 1] as number[])[j] as number) + 1,
        ((d[i] as number[])[j - 1] as number) + 1,
        ((d[i - 1] as number[])[j - 1] as number) + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, ((d[i - 2] as number[])[j - 2] as number) + 1);
      (d[i] as number[])[j] = best;
    }
  }
  return (d[a.length] as number[])[b.length] as number;
}

/**
 * The candidate closest to `name` (case-insensitive), or null when none is close: at most a third of the
 * name's length in edits (so `LLM_TIMEOUT` is suggested for `LLM_TIMOUT`, but nothing for `PORT`).
 */
export function closestName(name: string, candidates: Iterable<string>): string | null {
  const wanted = name.toUpperCase();
  let best: { name: string; distance: number } | null = null;
  for (const candidate of candidates) {
    const distance = editDistance(wanted, candidate.toUpperCase());
    if (!best || distance < best.distance) best = { name: candidate, distance };
  }
  if (!best || best.distance === 0) return best?.name ?? null;
  return best.distance <= Math.max(1, Math.floor(wanted.length / 3)) ? best.name : null;
}
