/** What several verbs share: settings from .env and the environment, and the stores under LOG_DIRECTORY. */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadSettings, type Settings } from '../config/settings.js';
import { CodeRegistry } from '../registry/index.js';
import { createFileStorage, type Storage } from '../storage/index.js';
import type { Io } from './io.js';

export interface CliSetup {
  settings: Settings;
  /** The .env file that was read, or null when there is none. */
  envFile: string | null;
}

/** Settings as the CLI sees them: `.env` in the working directory, overridden by the environment. */
export function cliSettings(io: Io): CliSetup {
  const envFile = join(io.cwd, '.env');
  const settings = loadSettings({ env: io.env, envFile });
  return { settings, envFile: existsSync(envFile) ? envFile : null };
}

export function cliStorage(settings: Settings, io: Io): Storage & { registryApi: CodeRegistry } {
  const storage = createFileStorage(resolve(io.cwd, settings.LOG_DIRECTORY));
  return { ...storage, registryApi: new CodeRegistry(storage.registry) };
}
