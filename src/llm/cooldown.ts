/**
 * Providers that keep failing are skipped for a while by every call in the process, so a dead endpoint
 * costs one timeout, not one per call. Keyed by provider, endpoint and model: two chains pointed at the same
 * service share what they learn.
 */

const until = new Map<string, number>();

export function cooldownKey(provider: string, endpoint: string, model: string): string {
  return `${provider}|${endpoint}|${model}`;
}

/** Milliseconds left in this key's cooldown (0 when it may be called). */
export function cooldownRemaining(key: string, now = Date.now()): number {
  const end = until.get(key);
  if (end === undefined) return 0;
  if (end <= now) {
    until.delete(key);
    return 0;
  }
  return end - now;
}

export function startCooldown(key: string, ms: number, now = Date.now()): void {
  if (ms <= 0) return;
  until.set(key, Math.max(until.get(key) ?? 0, now + ms));
}

export function clearCooldown(key: string): void {
  until.delete(key);
}

/** Forgets every cooldown (tests, and `automesh check`, which must try each provider afresh). */
export function resetCooldowns(): void {
  until.clear();
}
