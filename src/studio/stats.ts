/**
 * The dashboard's numbers, from the result log: results over time, tokens and cost per agent and per model, and the
 * repair loop (first-try success, success after n repairs, failures and repairs by error category). One pass over
 * the results of the window; a damaged record is counted, never guessed at.
 */
import type { ResultScanItem } from '../storage/types.js';
import type { CostLine, RepairNumbers, StudioStats, TimeBucket } from './api-types.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function emptyLine(): CostLine {
  return { tasks: 0, succeeded: 0, tokens: 0, costUsd: 0, unpriced: 0 };
}

function addTo(line: CostLine, envelope: EnvelopeView): void {
  line.tasks += 1;
  if (envelope.status === 'success') line.succeeded += 1;
  line.tokens += envelope.tokens;
  if (envelope.costUsd === null) line.unpriced += 1;
  else line.costUsd += envelope.costUsd;
}

/** What the numbers read of an envelope, each field checked (a record written by hand may lack any). */
interface EnvelopeView {
  status: string;
  repairs: number;
  cached: boolean;
  tokens: number;
  costUsd: number | null;
  model: string;
  categories: string[];
  errorCategory: string | null;
}

function viewOf(envelope: Record<string, unknown>): EnvelopeView {
  const tokens = envelope.tokens as { total?: unknown } | undefined;
  const attempts = Array.isArray(envelope.attempts) ? (envelope.attempts as Array<Record<string, unknown>>) : [];
  return {
    status: typeof envelope.status === 'string' ? envelope.status : 'unknown',
    repairs: typeof envelope.repairs === 'number' ? envelope.repairs : 0,
    cached: envelope.cached === true,
    tokens: typeof tokens?.total === 'number' ? tokens.total : 0,
    costUsd: typeof envelope.costUsd === 'number' ? envelope.costUsd : null,
    model: typeof envelope.model === 'string' ? envelope.model : envelope.cached === true ? '(registry)' : '(none)',
    categories: attempts.map((a) => a.errorCategory).filter((c): c is string => typeof c === 'string'),
    errorCategory: typeof envelope.errorCategory === 'string' ? envelope.errorCategory : null,
  };
}

function countRepairs(numbers: RepairNumbers, view: EnvelopeView): void {
  numbers.tasks += 1;
  if (view.status === 'success' && view.repairs === 0) {
    numbers.firstTry += 1;
    if (view.cached) numbers.cached += 1;
  } else if (view.status === 'success') {
    numbers.afterRepairs[view.repairs] = (numbers.afterRepairs[view.repairs] ?? 0) + 1;
  } else numbers.failed += 1;
  const seen = new Set<string>();
  for (const category of view.categories) {
    const line = numbers.byCategory[category] ?? { attempts: 0, repaired: 0, finalFailures: 0 };
    numbers.byCategory[category] = line;
    line.attempts += 1;
    if (seen.has(category)) continue;
    seen.add(category);
    if (view.status === 'success') line.repaired += 1;
  }
  if (view.status !== 'success' && view.errorCategory !== null) {
    const line = numbers.byCategory[view.errorCategory] ?? { attempts: 0, repaired: 0, finalFailures: 0 };
    numbers.byCategory[view.errorCategory] = line;
    line.finalFailures += 1;
  }
}

/** Hourly buckets for a window of up to two days, daily ones beyond. */
export function bucketSize(sinceMs: number, nowMs: number): 'hour' | 'day' {
  return nowMs - sinceMs <= 2 * DAY ? 'hour' : 'day';
}

/** Folds the results of a scan (oldest first) into the dashboard's numbers. */
export async function studioStats(
  items: AsyncIterable<ResultScanItem>,
  sinceMs: number,
  nowMs: number,
): Promise<StudioStats> {
  const bucket = bucketSize(sinceMs, nowMs);
  const width = bucket === 'hour' ? HOUR : DAY;
  const stats: StudioStats = {
    since: new Date(sinceMs).toISOString(),
    bucket,
    timeline: [],
    byAgent: {},
    byModel: {},
    repairs: { tasks: 0, firstTry: 0, cached: 0, afterRepairs: {}, failed: 0, byCategory: {} },
    damaged: 0,
  };
  const buckets = new Map<number, TimeBucket>();
  for await (const item of items) {
    if (item.damaged) {
      stats.damaged += 1;
      continue;
    }
    const { result } = item;
    const view = viewOf(result.envelope);
    const start = Math.floor(Date.parse(result.createdAt) / width) * width;
    let slot = buckets.get(start);
    if (!slot) {
      slot = { start: new Date(start).toISOString(), failed: 0, ...emptyLine() };
      buckets.set(start, slot);
    }
    addTo(slot, view);
    if (view.status !== 'success') slot.failed += 1;
    stats.byAgent[result.role] ??= emptyLine();
    addTo(stats.byAgent[result.role] as CostLine, view);
    stats.byModel[view.model] ??= emptyLine();
    addTo(stats.byModel[view.model] as CostLine, view);
    countRepairs(stats.repairs, view);
  }
  stats.timeline = [...buckets.values()].sort((a, b) => (a.start < b.start ? -1 : 1));
  return stats;
}
