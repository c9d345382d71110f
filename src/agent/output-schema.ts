/**
 * Output schemas (DESIGN.md section 2): a zod schema the task's result must match. The model is told the shape
 * (from its JSON Schema); a result that does not match is a `schema` failure listing zod's issues with their
 * paths, and is repaired like any other failure. The result is checked, never changed (defaults and transforms
 * of the schema are not applied: the output stays what the code produced).
 */
import type { z } from 'zod';
import { requireZod4Schema, toJsonSchema } from '../codegen/json-schema.js';
import { typeOfSchema } from '../codegen/tool-docs.js';

/** Issues listed in a `schema` error; the rest are counted. */
const MAX_ISSUES = 10;

/** The output schema in force for a task: the task's own, else the agent's. Throws a TypeError for a non-zod-4 one. */
export function outputSchemaFor(taskSchema: unknown, agentSchema: z.ZodType | undefined): z.ZodType | undefined {
  if (taskSchema !== undefined) return requireZod4Schema(taskSchema, "The task's outputSchema");
  return agentSchema;
}

/** The result section of the system prompt. */
export function describeOutputSchema(schema: z.ZodType | undefined): string {
  if (!schema) return 'Any plain JSON data that answers the task.';
  const json = toJsonSchema(schema);
  delete (json as { $schema?: string }).$schema;
  return [
    `\`result\` must match this type: ${typeOfSchema(json)}`,
    'Its JSON Schema (a result that does not match it is rejected):',
    '```json',
    JSON.stringify(json, null, 2),
    '```',
  ].join('\n');
}

/** Where an issue is: `total`, `items[0].name`, or `result` for the whole value. */
function pathOf(path: ReadonlyArray<PropertyKey>): string {
  let text = 'result';
  for (const part of path) text += typeof part === 'number' ? `[${part}]` : `.${String(part)}`;
  return text;
}

/** Null when `output` matches `schema`; else an error message listing the issues with their paths. */
export function outputMismatch(schema: z.ZodType, output: unknown): string | null {
  const checked = schema.safeParse(output);
  if (checked.success) return null;
  const issues = checked.error.issues;
  const lines = issues.slice(0, MAX_ISSUES).map((issue) => `- ${pathOf(issue.path)}: ${issue.message}`);
  if (issues.length > MAX_ISSUES) lines.push(`- … and ${issues.length - MAX_ISSUES} more`);
  const sample = JSON.stringify(output) ?? 'undefined';
  return (
    `The result does not match the output schema (${issues.length} issue${issues.length === 1 ? '' : 's'}):\n`
    + `${lines.join('\n')}\nThe result was: ${sample.length > 300 ? `${sample.slice(0, 300)}…` : sample}`
  );
}
