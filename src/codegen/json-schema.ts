/**
 * zod schemas as automesh reads them: checked to be zod 4 (the only version whose schemas `z.toJSONSchema`
 * can read; a zod 3 schema would silently describe a tool as taking no arguments), turned into JSON Schema for
 * prompts and registry keys, and serialized stably so that equal schemas hash equally.
 */
import { z } from 'zod';

/** A JSON Schema, as far as automesh reads one. */
export type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema | JsonSchema[];
  prefixItems?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  description?: string;
  additionalProperties?: boolean | JsonSchema;
};

const HOW_TO_FIX =
  'automesh reads schemas with zod 4 (z.toJSONSchema); install zod 4 (npm install zod@^4) and '
  + "build the schema with `import { z } from 'zod'` (with zod 3.25 installed, `import { z } from 'zod/v4'` also works).";

/**
 * Throws a TypeError saying why `value` is not a zod 4 schema and what to do, or returns it. `what` names the
 * place, e.g. `Tool "database.query" input`.
 */
export function requireZod4Schema(value: unknown, what: string): z.ZodType {
  if (value !== null && typeof value === 'object') {
    const schema = value as { _zod?: unknown; _def?: unknown; safeParse?: unknown };
    if (schema._zod !== null && typeof schema._zod === 'object' && typeof schema.safeParse === 'function') {
      return value as z.ZodType;
    }
    if (schema._def !== undefined) {
      throw new TypeError(
        `${what} is a zod 3 schema (it has _def but no _zod), which automesh cannot read: the `
          + `model would be told nothing about it. ${HOW_TO_FIX}`,
      );
    }
  }
  const got =
    value === null
      ? 'null'
      : Array.isArray(value)
        ? 'an array'
        : typeof value === 'object'
          ? 'an object that is not a zod schema'
          : typeof value;
  throw new TypeError(
    `${what} must be a zod 4 schema (e.g. z.object({ total: z.number() })); got ${got}. ${HOW_TO_FIX}`,
  );
}

/** JSON Schema of a zod 4 schema; parts JSON Schema cannot express (transforms, dates) become "any". */
export function toJsonSchema(schema: z.ZodType): JsonSchema {
  return z.toJSONSchema(schema, { unrepresentable: 'any' }) as JsonSchema;
}

/** JSON text with object keys sorted, so equal values give equal text whatever their key order. */
export function stableJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
}
