/** `--since`: a duration back from now (`30m`, `12h`, `1d`, `2w`) or a date (`2026-12-01`, an ISO time). */
import { UsageError } from './io.js';

const UNIT_MS: Readonly<Record<string, number>> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
};

const DURATION = /^(\d+(?:\.\d+)?)\s*([smhdw])$/;
const DATE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

/** The ISO instant `--since value` names, counted back from `now`; a UsageError saying what to write otherwise. */
export function parseSince(value: string, now: Date = new Date()): string {
  const text = value.trim();
  const duration = DURATION.exec(text);
  if (duration) {
    const [, amount, unit] = duration as unknown as [string, string, string];
    return new Date(now.getTime() - Number(amount) * (UNIT_MS[unit] as number)).toISOString();
  }
  if (DATE.test(text)) {
    const at = new Date(text);
    if (!Number.isNaN(at.getTime())) return at.toISOString();
  }
  throw new UsageError(
    `--since must be a duration back from now (a number and s, m, h, d or w: 30m, 12h, 1d, 2w) or a date (2026-12-01, 2026-12-01T08:00Z); got "${value}"`,
    'e.g. automesh stats --since 1d',
  );
}
