/**
 * Quick checks that a record has the shape of its schema (`schemas.ts`), before zod is asked: on write, and on read
 * of what `JSON.parse` made. Each is stricter than its schema (plain objects only, no symbol keys, safe integers): a
 * record it passes, the schema passes too, so a write or read that passes skips the zod parse; any other record
 * still goes to zod, which accepts or explains. The zod parse of a record, which copies it, cost ~0.1-0.2 ms of CPU per write inside a
 * task (its code seldom runs hot), and a workflow step writes four records; these checks cost microseconds.
 * test/storage-record-checks.test.ts holds them to "passes here => passes the schema".
 */

type Fields = Record<string, unknown>;

/** A plain object (`{}` or `Object.create(null)`) with no symbol keys: what zod's object and record accept, and less. */
function isPlainRecord(value: unknown): value is Fields {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return (proto === Object.prototype || proto === null) && Object.getOwnPropertySymbols(value).length === 0;
}

function isText(value: unknown): value is string {
  return typeof value === 'string';
}

function isNonEmptyText(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

function isCount(value: unknown): boolean {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isTextList(value: unknown): boolean {
  if (!Array.isArray(value)) return false;
  for (let i = 0; i < value.length; i++) if (typeof value[i] !== 'string') return false;
  return true;
}

function isTextRecord(value: unknown): boolean {
  if (!isPlainRecord(value)) return false;
  // Every own name, enumerable or not: a schema's record may read those too.
  for (const key of Object.getOwnPropertyNames(value)) if (typeof value[key] !== 'string') return false;
  return true;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;
const STAGES: ReadonlySet<unknown> = new Set(['candidate', 'verified', 'golden']);
const STEP_STATUSES: ReadonlySet<unknown> = new Set(['pending', 'running', 'success', 'failure', 'skipped']);

/** Passes only results `storedResultSchema` accepts. */
export function surelyStoredResult(value: unknown): boolean {
  return (
    isPlainRecord(value)
    && isNonEmptyText(value.resultId)
    && isNonEmptyText(value.role)
    && isText(value.task)
    && isNonEmptyText(value.createdAt)
    && isTextRecord(value.promptHashes)
    && isPlainRecord(value.envelope)
  );
}

function surelyProvenance(value: unknown): boolean {
  return (
    isPlainRecord(value)
    && (value.provider === null || isText(value.provider))
    && (value.model === null || isText(value.model))
    && (value.resultId === null || isText(value.resultId))
    && isNonEmptyText(value.createdAt)
  );
}

/** Passes only entries `registryEntrySchema` accepts. */
export function surelyRegistryEntry(value: unknown): boolean {
  return (
    isPlainRecord(value)
    && isNonEmptyText(value.id)
    && isNonEmptyText(value.role)
    && isText(value.task)
    && isText(value.normalizedTask)
    && isText(value.taskKey)
    && SHA256_HEX.test(value.taskKey)
    && isText(value.systemPromptHash)
    && (value.contextShapeHash === undefined || isText(value.contextShapeHash))
    && (value.toolsHash === undefined || isText(value.toolsHash))
    && (value.outputSchemaHash === undefined || isText(value.outputSchemaHash))
    && isTextList(value.capabilities)
    && isText(value.code)
    && surelyProvenance(value.provenance)
    && isCount(value.successCount)
    && isCount(value.failureCount)
    && STAGES.has(value.stage)
    && (value.lastUsedAt === null || isNonEmptyText(value.lastUsedAt))
    && (value.lastError === null || isText(value.lastError))
  );
}

/** Passes only step records `stepRecordSchema` accepts. */
export function surelyStepRecord(value: unknown): boolean {
  return (
    isPlainRecord(value)
    && isNonEmptyText(value.stepId)
    && isCount(value.index)
    && isText(value.role)
    && isText(value.task)
    && isText(value.specHash)
    && STEP_STATUSES.has(value.status)
    && (value.envelope === null || isPlainRecord(value.envelope))
    && (value.startedAt === null || isNonEmptyText(value.startedAt))
    && (value.finishedAt === null || isNonEmptyText(value.finishedAt))
  );
}
