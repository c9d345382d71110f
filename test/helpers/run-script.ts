// Runs a TypeScript file in its own Node process (through tsx) and collects what it printed.
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

/** tsx named by its path, so a script can run from any directory (e.g. an empty one, with no .env). */
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

export interface ScriptRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A script running in its own Node process (through tsx), its output collected as it comes. */
export interface StartedScript {
  child: ChildProcess;
  out(): string;
  err(): string;
  exited: Promise<number | null>;
}

export function startScript(
  file: string,
  options: Pick<SpawnOptions, 'env' | 'cwd' | 'uid' | 'gid'>,
  args: readonly string[] = [],
): StartedScript {
  const child = spawn(process.execPath, ['--import', tsxLoader, file, ...args], {
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
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { child, out: () => stdout, err: () => stderr, exited };
}

export async function runScript(
  file: string,
  options: Pick<SpawnOptions, 'env' | 'cwd' | 'uid' | 'gid'>,
): Promise<ScriptRun> {
  const started = startScript(file, options);
  const code = await started.exited;
  return { code, stdout: started.out(), stderr: started.err() };
}
