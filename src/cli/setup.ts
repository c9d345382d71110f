/** What several verbs share: settings from .env and the environment, and the database under LOG_DIRECTORY. */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readEnvFile } from '../config/env-file.js';
import {
  loadSettings,
  type Settings,
  type SettingsInput,
  type UnknownSettingName,
  unknownSettingNames,
} from '../config/settings.js';
import { CodeRegistry } from '../registry/index.js';
import { databasePath, openSqliteStorage, type Storage } from '../storage/index.js';
import type { Io } from './io.js';

export interface CliSetup {
  settings: Settings;
  /** The .env file that was read, or null when there is none. */
  envFile: string | null;
  /** Names in .env that are no setting but look like one (ignored), with the setting they probably mean. */
  misnamed: UnknownSettingName[];
}

/** Settings as the CLI sees them: `.env` in the working directory, overridden by the environment. */
export function cliSettings(io: Io): CliSetup {
  const envFile = join(io.cwd, '.env');
  const settings = loadSettings({ env: io.env, envFile });
  const found = existsSync(envFile);
  return {
    settings,
    envFile: found ? envFile : null,
    misnamed: found ? unknownSettingNames(Object.keys(readEnvFile(envFile))) : [],
  };
}

/** Settings as the CLI read them, handed to a mesh as its config (so .env is read from `io.cwd`). */
export function meshConfig(io: Io): SettingsInput {
  const { settings } = cliSettings(io);
  const config: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(settings)) if (value !== undefined) config[name] = value;
  config.LOG_DIRECTORY = resolve(io.cwd, settings.LOG_DIRECTORY);
  return config as SettingsInput;
}

/** The stores a verb reads: the database `automesh.db` under LOG_DIRECTORY (relative to the working folder). */
export interface CliStorage extends Storage {
  registryApi: CodeRegistry;
}

/** Runs `use` on the storage of the settings in force, and closes it after, whatever happens. */
export async function withCliStorage<T>(io: Io, use: (storage: CliStorage) => Promise<T>): Promise<T> {
  const { settings } = cliSettings(io);
  const storage = openSqliteStorage(
    databasePath(resolve(io.cwd, settings.LOG_DIRECTORY)),
    `LOG_DIRECTORY=${settings.LOG_DIRECTORY}`,
  );
  try {
    return await use({ ...storage, registryApi: new CodeRegistry(storage.registry) });
  } finally {
    await storage.close();
  }
}
