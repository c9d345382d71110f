/**
 * Warnings of the agent runtime: something went wrong that the task survived (it fell back), which a person should
 * still hear about. Delivered as the mesh's `warning` event (on stderr when nobody listens).
 */
import type { DamagedRecord } from '../registry/types.js';

export interface TaskWarning {
  /**
   * `registry_damaged`: a stored registry record could not be read; the lookup went on without it.
   * `registry_unavailable`: the registry lookup failed as a whole; the task generated code instead.
   */
  kind: 'registry_damaged' | 'registry_unavailable';
  message: string;
  role: string;
  resultId: string;
  stepId?: string;
  /** The record concerned, when one is. */
  record: DamagedRecord | null;
}
