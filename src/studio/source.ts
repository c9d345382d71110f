/** What the dashboard reads: a storage backend, and where the agents come from. */
import { listAgents } from '../mesh/agent-listing.js';
import type { Mesh } from '../mesh/mesh.js';
import type { Storage } from '../storage/types.js';
import type { StudioAgent } from './api-types.js';

export interface StudioSource {
  /** Results, the code registry and workflow state. The dashboard only reads them. */
  storage: Storage;
  /**
   * The agents on the mesh (the live catalog, with each agent's node). Absent on a log directory alone: the dashboard
   * then lists the roles the result log names, with no node.
   */
  agents?: () => Promise<StudioAgent[]>;
  /** Where the data lives, shown in the page's header (never a credential). */
  location: string;
}

/** The agents of a running mesh as the dashboard lists them: its live catalog, each with its node. */
export async function agentsOfMesh(mesh: Mesh): Promise<StudioAgent[]> {
  return (await listAgents(mesh, {})).map((a) => ({
    name: a.name,
    node: a.node,
    shape: a.shape,
    description: a.description,
    tags: a.tags,
  }));
}
