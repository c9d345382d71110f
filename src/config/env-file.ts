/**
 * The `.env` file: read with dotenv, never written into `process.env`, so the precedence stays
 * default < `.env` < process environment < explicit config, whoever loads settings first.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'dotenv';

/** Parses `.env` (or `path`) in the working directory; a missing file is an empty set of settings. */
export function readEnvFile(path = '.env'): Record<string, string> {
  const file = resolve(path);
  if (!existsSync(file)) return {};
  return parse(readFileSync(file));
}

/** Settings as the environment gives them: `.env` first, the process environment over it. */
export function environmentSettings(path?: string): Record<string, string | undefined> {
  return { ...readEnvFile(path), ...process.env };
}
