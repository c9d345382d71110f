/**
 * The answering side of bench/peers.ts. `Answerer` is the CustomAgent a peer ask goes to (it replies with the
 * message it was asked), used in one process by the bench itself; run as a script, this file is the other process
 * of the NATS measurement: a Mesh on NATS serving `Answerer`, and beside it, on a bare `@nats-io` connection, the
 * floor's responder (answers `PEER_FLOOR_SUBJECT` with the request's bytes). It prints `{"event":"ready"}` once both
 * serve, and stops on SIGTERM (the mesh stopped, the connection drained, its temporary log folder removed).
 *
 * Usage: node --import tsx bench/lib/peer-answerer.ts NATS_URL
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CustomAgent, createMemoryStorage, Mesh, type MeshOptions } from '../../src/index.js';
import { answerFloor } from './nats-floor.js';

export const ANSWERER = 'bench.answerer';
export const PEER_FLOOR_SUBJECT = 'bench.peers.floor';

export class Answerer extends CustomAgent {
  static override role = ANSWERER;
  static override capabilities = ['bench'];
  static override description = 'Answers a peer ask with the message it was asked (the peer ask benchmark).';
  override async onPeerRequest(message: unknown): Promise<unknown> {
    return message;
  }
}

/**
 * A mesh of this benchmark with a temporary log folder (removed by `removeLogs`); memory storage unless `options`
 * say otherwise.
 */
export function benchMesh(options: MeshOptions = {}): { mesh: Mesh; removeLogs(): void } {
  const logs = mkdtempSync(join(tmpdir(), 'automesh-bench-peers-'));
  const config = { LOG_DIRECTORY: logs, ...(options.config ?? {}) };
  return {
    mesh: new Mesh({ storage: createMemoryStorage(), ...options, config }),
    removeLogs: () => rmSync(logs, { recursive: true, force: true }),
  };
}

async function serve(url: string): Promise<void> {
  const { mesh, removeLogs } = benchMesh({ config: { NATS_URL: url } });
  mesh.add(Answerer);
  await mesh.start();
  const floor = await answerFloor(url, PEER_FLOOR_SUBJECT);
  process.stdout.write(`${JSON.stringify({ event: 'ready' })}\n`);
  process.once('SIGTERM', () => {
    void Promise.allSettled([mesh.stop(), floor.drain()]).finally(() => {
      removeLogs();
      process.exit(0);
    });
  });
}

const [url] = process.argv.slice(2);
if (url && process.argv[1]?.endsWith('peer-answerer.ts')) await serve(url);
