/**
 * What `automesh studio` reads: the database under a log directory alone, or a NATS mesh (its KV buckets for the
 * registry and workflow state, its live catalog for the agents and their nodes) with this machine's result log.
 */
import { resolve } from 'node:path';
import type { Settings } from '../config/settings.js';
import { Mesh } from '../mesh/mesh.js';
import { createMemoryStorage, databasePath, openBusStorage, openSqliteStorage } from '../storage/index.js';
import type { StudioSource } from '../studio/index.js';
import { agentsOfMesh } from '../studio/source.js';
import type { Bus } from '../transport/bus.js';
import { cliErrorOf } from './mesh-client.js';

export interface OpenedSource {
  source: StudioSource;
  close(): Promise<void>;
}

/** The embedded database of `logDir` (results, registry, workflows). */
export function logDirSource(logDir: string): OpenedSource {
  const storage = openSqliteStorage(databasePath(logDir), `LOG_DIRECTORY=${logDir}`);
  return { source: { storage, location: storage.location }, close: () => storage.close() };
}

async function connect(settings: Settings, url: string): Promise<Bus> {
  const { connectNats } = await import('../transport/nats/index.js');
  return connectNats({
    settings: {
      NATS_URL: url,
      NATS_USER: settings.NATS_USER,
      NATS_PASSWORD: settings.NATS_PASSWORD,
      NATS_TOKEN: settings.NATS_TOKEN,
      NATS_CREDS: settings.NATS_CREDS,
      NATS_TLS_CA: settings.NATS_TLS_CA,
    },
    name: 'automesh-studio',
  }).catch((err: unknown) => {
    throw cliErrorOf(err);
  });
}

/**
 * The mesh at `url`: registry and workflows from its KV buckets, agents from its catalog (through a client mesh
 * that serves nothing), results from the database of `logDir` (the result log stays with the node that ran a step).
 */
export async function meshSource(settings: Settings, url: string, logDir: string): Promise<OpenedSource> {
  const bus = await connect(settings, url);
  const local = openSqliteStorage(databasePath(logDir), `LOG_DIRECTORY=${logDir}`);
  const clientStorage = createMemoryStorage();
  const mesh = new Mesh({
    mode: 'distributed',
    config: { ...settings, NATS_URL: url, LOG_DIRECTORY: resolve(logDir) },
    bus,
    storage: clientStorage,
  });
  try {
    await mesh.start();
    const storage = await openBusStorage({ bus, results: local.results, onClose: () => local.close() });
    return {
      source: {
        storage,
        location: `${storage.location}; results from ${local.location}`,
        agents: () => agentsOfMesh(mesh),
      },
      close: async () => {
        await storage.close();
        await mesh.stop();
        await clientStorage.close();
        await bus.close();
      },
    };
  } catch (err) {
    await mesh.stop().catch(() => undefined);
    await local.close();
    await bus.close();
    throw cliErrorOf(err);
  }
}
