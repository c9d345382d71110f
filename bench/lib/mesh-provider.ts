/**
 * A provider process for bench/mesh.ts: a Mesh on NATS serving `bench.replica` (answers with this process's id,
 * for the load split) and `bench.victim-{index}` (with `{ hold: true }` it never answers: the call in flight when
 * the process is SIGKILLed). Prints one JSON line when it calls `mesh.start()` and one when start() has resolved,
 * each with the wall-clock time (`performance.timeOrigin + performance.now()`, comparable across processes on one
 * machine), then serves until killed.
 *
 * Usage: node --import tsx bench/lib/mesh-provider.ts NATS_URL INDEX   (the mesh from dist/, as in bench/mesh.ts)
 */
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import { createMemoryStorage, Mesh } from '../../dist/src/index.js';

export const REPLICA_AGENT = 'bench.replica';

export function victimAgent(index: number): string {
  return `bench.victim-${index}`;
}

/** The lines the process prints, one JSON object each. */
export type ProviderLine = { event: 'starting'; at: number } | { event: 'ready'; at: number; pid: number };

/** Settings of a mesh on NATS that serves and calls function agents only (no model is configured or needed). */
export function meshConfig(url?: string): Record<string, string> {
  return url ? { NATS_URL: url } : {};
}

export function wallClock(): number {
  return performance.timeOrigin + performance.now();
}

function say(line: ProviderLine): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

async function serve(url: string, index: number): Promise<void> {
  const mesh = new Mesh({ config: meshConfig(url), storage: createMemoryStorage() });
  mesh.agent(
    {
      name: REPLICA_AGENT,
      description: 'Answers with the id of the process that answered (the load split).',
      input: z.object({ n: z.number() }),
      output: z.object({ pid: z.number() }),
    },
    () => ({ pid: process.pid }),
  );
  mesh.agent(
    {
      name: victimAgent(index),
      description: 'Never answers a request that asks it to hold: the call in flight when its process dies.',
      input: z.object({ hold: z.boolean() }),
      output: z.object({ held: z.boolean() }),
    },
    ({ hold }) => (hold ? new Promise<never>(() => undefined) : { held: false }),
  );
  say({ event: 'starting', at: wallClock() });
  await mesh.start();
  say({ event: 'ready', at: wallClock(), pid: process.pid });
  process.once('SIGTERM', () => {
    void mesh.stop().finally(() => process.exit(0));
  });
}

const [url, index] = process.argv.slice(2);
if (url && index !== undefined && process.argv[1]?.endsWith('mesh-provider.ts')) {
  await serve(url, Number(index));
}
