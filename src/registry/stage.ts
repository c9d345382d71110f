import type { Stage } from './types.js';

/** Successes at which an entry becomes `golden`. */
export const GOLDEN_SUCCESSES = 5;

/**
 * The stage an entry's record earns. Failures at least as many as successes → `candidate` (not reused: the code is
 * as likely to fail as to work); otherwise 5+ successes → `golden`, 1+ → `verified`.
 *
 * The stage depends on the counts alone, so every process that updates the counts agrees on it. A consequence: an
 * entry with many successes needs as many failures to drop to `candidate`.
 */
export function stageOf(successCount: number, failureCount: number): Stage {
  if (failureCount >= successCount) return 'candidate';
  if (successCount >= GOLDEN_SUCCESSES) return 'golden';
  return 'verified';
}
