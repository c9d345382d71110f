/**
 * Shapes of the stored files, checked on read (a file of the wrong shape is reported as damaged instead of
 * crashing somewhere later) and on write (a caller bug never reaches the disk). Objects are loose: fields added by
 * a newer automesh survive a read-modify-write by an older one.
 */
import { z } from 'zod';
import type { RegistryEntry } from '../registry/types.js';
import { surelyRegistryEntry, surelyStepRecord, surelyStoredResult } from './record-checks.js';
import type { StepRecord, StoredResult, WorkflowHeader } from './types.js';

/** Turns parsed JSON into the stored type, or explains (by throwing any Error) why it is not one. */
export type Decoder<T> = (data: unknown) => T;

const isoTime = z.string().min(1);

export const storedResultSchema = z.looseObject({
  resultId: z.string().min(1),
  role: z.string().min(1),
  task: z.string(),
  createdAt: isoTime,
  promptHashes: z.record(z.string(), z.string()),
  envelope: z.record(z.string(), z.unknown()),
});

export const registryEntrySchema = z.looseObject({
  id: z.string().min(1),
  role: z.string().min(1),
  task: z.string(),
  normalizedTask: z.string(),
  taskKey: z.string().regex(/^[0-9a-f]{64}$/, 'a sha256 hex digest'),
  systemPromptHash: z.string(),
  // Absent on entries written before they were part of the key; such entries never match a lookup.
  contextShapeHash: z.string().optional(),
  toolsHash: z.string().optional(),
  outputSchemaHash: z.string().optional(),
  capabilities: z.array(z.string()),
  code: z.string(),
  provenance: z.looseObject({
    provider: z.string().nullable(),
    model: z.string().nullable(),
    resultId: z.string().nullable(),
    createdAt: isoTime,
  }),
  successCount: z.number().int().nonnegative(),
  failureCount: z.number().int().nonnegative(),
  stage: z.enum(['candidate', 'verified', 'golden']),
  lastUsedAt: isoTime.nullable(),
  lastError: z.string().nullable(),
});

export const workflowHeaderSchema = z.looseObject({
  workflowId: z.string().min(1),
  status: z.enum(['running', 'finished', 'failed', 'cancelled']),
  stepIds: z.array(z.string()),
  plan: z.array(z.object({ stepId: z.string(), role: z.string(), dependsOn: z.array(z.string()) })).optional(),
  startedAt: isoTime,
  updatedAt: isoTime,
});

export const stepRecordSchema = z.looseObject({
  stepId: z.string().min(1),
  index: z.number().int().nonnegative(),
  role: z.string(),
  task: z.string(),
  specHash: z.string(),
  status: z.enum(['pending', 'running', 'success', 'failure', 'skipped']),
  envelope: z.record(z.string(), z.unknown()).nullable(),
  startedAt: isoTime.nullable(),
  finishedAt: isoTime.nullable(),
});

// Compile-time guards: the schemas must produce the public types (a drift fails the build, not a user).
type Assignable<A, B> = A extends B ? true : false;
const resultMatches: Assignable<z.infer<typeof storedResultSchema>, StoredResult> = true;
const entryMatches: Assignable<z.infer<typeof registryEntrySchema>, RegistryEntry> = true;
const headerMatches: Assignable<z.infer<typeof workflowHeaderSchema>, WorkflowHeader> = true;
const stepMatches: Assignable<z.infer<typeof stepRecordSchema>, StepRecord> = true;
void resultMatches;
void entryMatches;
void headerMatches;
void stepMatches;

/**
 * Decoder from a zod schema, with a one-line explanation of what is wrong. `quick`, a check stricter than the schema
 * (`record-checks.ts`), lets data that passes it through as it is: what `JSON.parse` just made is nobody else's, so
 * it needs no copy, and a registry hit decodes its entry twice (the lookup, then the success count), where the zod
 * parse costs ~0.05 ms each. Anything else still goes to zod, which accepts it or explains.
 */
export function decoderOf<T>(schema: z.ZodType<T>, quick?: (data: unknown) => boolean): Decoder<T> {
  return (data) => {
    if (quick?.(data)) return data as T;
    const parsed = schema.safeParse(data);
    if (parsed.success) return parsed.data;
    const problems = parsed.error.issues.slice(0, 5).map((issue) => {
      const where = issue.path.length > 0 ? issue.path.join('.') : '(top level)';
      return `${where}: ${issue.message}`;
    });
    throw new Error(problems.join('; '));
  };
}

export const decodeStoredResult: Decoder<StoredResult> = decoderOf(storedResultSchema, surelyStoredResult);
export const decodeRegistryEntry: Decoder<RegistryEntry> = decoderOf(registryEntrySchema, surelyRegistryEntry);
export const decodeWorkflowHeader: Decoder<WorkflowHeader> = decoderOf(workflowHeaderSchema);
export const decodeStepRecord: Decoder<StepRecord> = decoderOf(stepRecordSchema, surelyStepRecord);
