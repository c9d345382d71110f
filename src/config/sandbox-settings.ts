/**
 * The sandbox's slice of the settings (see `settings.ts` for names, defaults and validation).
 */
import { loadSettings, type Settings } from './settings.js';

const SANDBOX_KEYS = [
  'EXECUTION_TIMEOUT',
  'SANDBOX_MEMORY_MB',
  'SANDBOX_WORKERS',
  'SANDBOX_MAX_OUTPUT_BYTES',
  'SANDBOX_MAX_LOG_BYTES',
  'SANDBOX_MAX_TOOL_CALLS',
  'SANDBOX_MAX_TOOL_BYTES',
] as const;

export type SandboxSettings = Pick<Settings, (typeof SANDBOX_KEYS)[number]>;

/** The sandbox settings of already-loaded settings. */
export function sandboxSettingsOf(settings: Settings): SandboxSettings {
  return Object.fromEntries(SANDBOX_KEYS.map((key) => [key, settings[key]])) as SandboxSettings;
}

/**
 * Reads the sandbox settings from `source`, or by default from `.env` overlaid by the process environment.
 * Empty strings count as unset; a bad value throws naming the setting.
 */
export function loadSandboxSettings(source?: Record<string, string | undefined>): SandboxSettings {
  return sandboxSettingsOf(source ? loadSettings({ env: source, envFile: false }) : loadSettings());
}
