/**
 * `mesh.discover(filter)`: the full contracts of the agents the catalog lists, as OAM main's `discover()` (catalog
 * entries passing the filter, each read from the registry; an agent whose contract cannot be read, e.g. one that left
 * between the two reads, is left out rather than failing the whole listing).
 */
import type { Catalog, CatalogFilter } from './catalog.js';
import type { AgentContract } from './contract-types.js';
import { isMeshError } from './mesh-error.js';
import type { Registry } from './registry.js';

export async function discover(catalog: Catalog, registry: Registry, filter?: CatalogFilter): Promise<AgentContract[]> {
  const contracts = await Promise.all(
    catalog.list(filter).map((entry) =>
      registry.contract(entry.name).catch((err: unknown) => {
        if (isMeshError(err)) return null;
        throw err;
      }),
    ),
  );
  return contracts.filter((contract): contract is AgentContract => contract !== null);
}
