/**
 * The agents on a mesh as people list them (`automesh agents`, the studio, `automesh serve`'s dashboard): each
 * catalog entry with the shape and node its contract records.
 */
import type { AgentShape, CatalogEntry } from '../transport/oam/contract-types.js';
import type { Mesh } from './mesh.js';

export interface ListedAgent extends CatalogEntry {
  shape: AgentShape | null;
  node: string | null;
}

/** The shape a catalog entry's flags imply, for an agent whose contract cannot be read. */
function shapeOfFlags(entry: CatalogEntry): AgentShape | null {
  if (entry.streaming) return 'streamer';
  return entry.invocable ? 'responder' : null;
}

/** Each catalog entry with the shape and node its contract records (a contract that cannot be read: from its flags). */
export async function listAgents(mesh: Mesh, filter: { channel?: string; tags?: string[] }): Promise<ListedAgent[]> {
  const entries = await mesh.catalog(filter);
  const contracts = await Promise.allSettled(entries.map((entry) => mesh.contract(entry.name)));
  return entries.map((entry, i) => {
    const found = contracts[i];
    const contract = found?.status === 'fulfilled' ? found.value : null;
    return { ...entry, shape: contract?.shape ?? shapeOfFlags(entry), node: contract?.node ?? null };
  });
}
