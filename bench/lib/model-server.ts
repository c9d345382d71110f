/**
 * The benchmarks' stand-in for a remote model: the local wire-protocol server (test/llm-server/main.ts) in a
 * child process, driven over its control API. A real model runs on another machine; an in-process server
 * would charge its HTTP parsing and reply building to the engine's event loop, and a benchmark of the engine
 * would measure the server too.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ProviderName, ReceivedRequest, ScriptedReply } from '../../test/llm-server/server.js';

const MAIN = fileURLToPath(new URL('../../test/llm-server/main.ts', import.meta.url));

export class ModelServerProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {}

  /** Starts the server; resolves once it listens. */
  static start(timeoutMs = 20_000): Promise<ModelServerProcess> {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN], { stdio: ['ignore', 'pipe', 'pipe'] });
    return new Promise((resolve, reject) => {
      let out = '';
      let err = '';
      const fail = (why: string): void => {
        clearTimeout(timer);
        child.kill('SIGKILL');
        reject(new Error(`bench: the model server did not start (${why})${err ? `: ${err.trim().slice(-500)}` : ''}`));
      };
      const timer = setTimeout(() => fail(`no URL within ${timeoutMs} ms`), timeoutMs);
      child.stderr?.on('data', (chunk: Buffer) => {
        err += chunk.toString();
      });
      child.once('exit', (code, signal) => fail(`exited with ${signal ?? code}`));
      child.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const match = /LLM_SERVER_URL=(\S+)/.exec(out);
        if (!match) return;
        clearTimeout(timer);
        child.removeAllListeners('exit');
        resolve(new ModelServerProcess(child, match[1] as string));
      });
    });
  }

  /** The server process's id (to sample its memory or CPU). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  private async control(method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
    const res = await fetch(`${this.url}/__control/${path}`, {
      method,
      ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
    });
    const data: unknown = await res.json();
    if (!res.ok) throw new Error(`bench: model server ${method} ${path}: ${res.status} ${JSON.stringify(data)}`);
    return data;
  }

  /** Clears scripted replies and recorded requests. */
  async reset(): Promise<void> {
    await this.control('POST', 'reset');
  }

  /** Queues replies for a provider, answered in order. */
  async script(provider: ProviderName, replies: ScriptedReply[]): Promise<void> {
    await this.control('POST', 'script', { provider, replies });
  }

  /** Requests the server received since the last reset. */
  async requests(provider?: ProviderName): Promise<ReceivedRequest[]> {
    return (await this.control('GET', `requests${provider ? `?provider=${provider}` : ''}`)) as ReceivedRequest[];
  }

  /** Stops the server. */
  close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.kill('SIGTERM');
    });
  }
}
