/**
 * The peers as a language model needs to know them: each agent the live catalog lists, with its description,
 * capabilities and the JSON Schemas of what it takes and returns, read from its contract in the registry. What
 * `peers.asTools()`, `peers.cognitiveContext()` and the prompt of an AutoAgent that may call peers are built from.
 * Read afresh on each call, so a peer that joined or left since is shown as it is now.
 */
import type { JsonSchema } from '../codegen/json-schema.js';
import type { AgentContract, AgentShape } from '../transport/oam/contract-types.js';
import type { PeerInfo } from './peers.js';

export interface PeerDescription extends PeerInfo {
  /** The contract's input schema; null when the peer takes no input (a trigger) or its contract could not be read. */
  inputSchema: JsonSchema | null;
  outputSchema: JsonSchema | null;
  /** The contract's shape; null when the contract could not be read (then only the catalog entry is known). */
  shape: AgentShape | null;
}

/** Where contracts come from: the mesh's registry (`mesh.contract(name)`). */
export type ContractSource = (role: string) => Promise<AgentContract>;

/**
 * The peers with their contracts, in the order given. A contract that cannot be read (the peer left between the
 * catalog read and this one, or wrote a document automesh cannot read) leaves that peer with its catalog entry only:
 * a model still learns it exists, and asking it reports what is wrong.
 */
export async function describePeers(peers: readonly PeerInfo[], contract: ContractSource): Promise<PeerDescription[]> {
  const contracts = await Promise.allSettled(peers.map((peer) => contract(peer.role)));
  return peers.map((peer, i) => {
    const read = contracts[i];
    if (read?.status !== 'fulfilled') return { ...peer, inputSchema: null, outputSchema: null, shape: null };
    return {
      ...peer,
      inputSchema: withoutMetaKeys(read.value.inputSchema),
      outputSchema: withoutMetaKeys(read.value.outputSchema),
      shape: read.value.shape,
    };
  });
}

/** `$schema` and `$id` tell a validator which draft; to a model and a provider's tool schema they are noise. */
function withoutMetaKeys(schema: Record<string, unknown> | null): JsonSchema | null {
  if (schema === null) return null;
  const { $schema: _draft, $id: _id, ...rest } = schema;
  return rest as JsonSchema;
}
