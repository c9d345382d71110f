/** The stored lease of a workflow (`lease.<wf>`): JSON of the {@link LeaseRow} every backend keeps. */
import { z } from 'zod';
import type { LeaseRow } from '../lease-rules.js';
import { decodeText, jsonText } from '../records.js';
import { decoderOf } from '../schemas.js';

const leaseRowSchema = z.object({
  lease: z.object({
    workflowId: z.string().min(1),
    owner: z.object({ runId: z.string().min(1), host: z.string(), pid: z.number().int(), since: z.string() }),
    generation: z.number().int().min(1),
    expiresAt: z.number(),
  }),
  released: z.boolean(),
});

const decodeLeaseRow = decoderOf<LeaseRow>(leaseRowSchema);

const ADVICE =
  'a run that claims the workflow takes it over with a new generation (the holder, if any, is then fenced off).';

export const leaseRowText = (row: LeaseRow): string => jsonText(`the lease of ${row.lease.workflowId}`, row);

/** The row from its text; `damaged` when it cannot be read. */
export function leaseRowOf(text: string, workflowId: string, location: string): LeaseRow {
  return decodeText(text, decodeLeaseRow, `The lease of workflow ${workflowId}`, location, ADVICE);
}
