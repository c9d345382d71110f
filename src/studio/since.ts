/** The start of a window from `24h`, `7d`, `30m` or an ISO time. */
const UNITS: Readonly<Record<string, number>> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Epoch milliseconds of the window's start; null when `text` is neither a duration nor an ISO time. */
export function parseSince(text: string, nowMs: number): number | null {
  const duration = /^(\d+)([mhd])$/.exec(text.trim());
  if (duration) return nowMs - Number(duration[1]) * (UNITS[duration[2] as string] as number);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text)) return null;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? null : ms;
}
