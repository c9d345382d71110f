/**
 * Sandbox settings: names, defaults and validation. Values come from the process environment unless
 * given explicitly; a bad value fails with a message naming the setting.
 */
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { environmentSettings } from './env-file.js';

const positiveNumber = (name: string, min: number, max: number) =>
  z.coerce.number({ error: `${name} must be a number` })
    .refine((n) => Number.isFinite(n) && n >= min && n <= max, { message: `${name} must be between ${min} and ${max}` });

const integer = (name: string, min: number, max: number) =>
  positiveNumber(name, min, max).refine(Number.isInteger, { message: `${name} must be a whole number` });

export const sandboxSettingsSchema = z.object({
  /** Seconds of wall-clock time per execution. */
  EXECUTION_TIMEOUT: positiveNumber('EXECUTION_TIMEOUT', 0.001, 86_400).default(300),
  /** V8 heap limit per isolate, in MiB (isolated-vm needs at least 8). */
  SANDBOX_MEMORY_MB: integer('SANDBOX_MEMORY_MB', 8, 16_384).default(128),
  /** Worker processes in the pool; each runs one execution at a time. */
  SANDBOX_WORKERS: integer('SANDBOX_WORKERS', 1, 256).default(Math.max(2, availableParallelism())),
  SANDBOX_MAX_OUTPUT_BYTES: integer('SANDBOX_MAX_OUTPUT_BYTES', 16, 1 << 30).default(1 << 20),
  SANDBOX_MAX_LOG_BYTES: integer('SANDBOX_MAX_LOG_BYTES', 0, 1 << 30).default(256 * 1024),
  SANDBOX_MAX_TOOL_CALLS: integer('SANDBOX_MAX_TOOL_CALLS', 0, 1_000_000).default(200),
  SANDBOX_MAX_TOOL_BYTES: integer('SANDBOX_MAX_TOOL_BYTES', 0, 1 << 30).default(16 << 20),
});

export type SandboxSettings = z.infer<typeof sandboxSettingsSchema>;

/**
 * Reads sandbox settings from `source` (default: `.env` overlaid by the process environment); empty strings
 * count as unset.
 */
export function loadSandboxSettings(source: Record<string, unknown> = environmentSettings()): SandboxSettings {
  const picked: Record<string, unknown> = {};
  for (const key of Object.keys(sandboxSettingsSchema.shape)) {
    const value = source[key];
    if (value !== undefined && value !== '') picked[key] = value;
  }
  const parsed = sandboxSettingsSchema.safeParse(picked);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const key = String(issue.path[0] ?? '');
      return `${key}=${JSON.stringify(picked[key])}: ${issue.message}`;
    });
    throw new Error(`Invalid sandbox settings: ${problems.join('; ')}.`);
  }
  return parsed.data;
}
