// Runs a TypeScript file in its own Node process (through tsx) and collects what it printed.
import { type SpawnOptions, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

/** tsx named by its path, so a script can run from any directory (e.g. an empty one, with no .env). */
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

export interface ScriptRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export async function runScript(
  file: string,
  options: Pick<SpawnOptions, 'env' | 'cwd' | 'uid' | 'gid'>,
): Promise<ScriptRun> {
  const child = spawn(process.execPath, ['--import', tsxLoader, file], {
    ...options,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, stdout, stderr };
}
