/**
 * Describes tools to the model from their definitions: name, description and argument shapes (from the
 * zod schemas, via JSON Schema), so users never describe their tools by hand.
 */
import type { z } from 'zod';
import type { ToolDefinition } from '../sandbox/tools.js';
import { type JsonSchema, toJsonSchema } from './json-schema.js';

/** A TypeScript-like rendering of a JSON Schema, short enough for a prompt. */
export function typeOfSchema(schema: JsonSchema | undefined, depth = 0): string {
  if (!schema || depth > 4) return 'unknown';
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (schema.enum) return schema.enum.map((v) => JSON.stringify(v)).join(' | ');
  const variants = schema.anyOf ?? schema.oneOf;
  if (variants) return variants.map((v) => typeOfSchema(v, depth + 1)).join(' | ');
  const type = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  if (type.length > 1) return type.map((t) => typeOfSchema({ ...schema, type: t }, depth)).join(' | ');
  switch (type[0]) {
    case 'string':
      return 'string';
    case 'number':
    case 'integer':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'null':
      return 'null';
    case 'array': {
      if (schema.prefixItems) return `[${schema.prefixItems.map((s) => typeOfSchema(s, depth + 1)).join(', ')}]`;
      const item = Array.isArray(schema.items) ? schema.items[0] : schema.items;
      const inner = typeOfSchema(item, depth + 1);
      return inner.includes(' ') ? `Array<${inner}>` : `${inner}[]`;
    }
    case 'object': {
      const props = Object.entries(schema.properties ?? {});
      if (props.length === 0) return 'object';
      const required = new Set(schema.required ?? []);
      return `{ ${props.map(([k, v]) => `${k}${required.has(k) ? '' : '?'}: ${typeOfSchema(v, depth + 1)}`).join('; ')} }`;
    }
    default:
      return 'unknown';
  }
}

function jsonSchemaOf(schema: z.ZodType | undefined): JsonSchema | undefined {
  if (!schema) return undefined;
  try {
    return toJsonSchema(schema);
  } catch {
    return undefined;
  }
}

/** `name(a: string, b?: number): Promise<T>` plus the description and per-argument notes. */
export function describeTool(tool: ToolDefinition): string {
  const input = jsonSchemaOf(tool.input);
  const args = input?.prefixItems ?? [];
  const params = tool.input
    ? args
        .map((arg, i) => `${arg.description?.match(/^(\w+):/)?.[1] ?? `arg${i + 1}`}: ${typeOfSchema(arg)}`)
        .join(', ')
    : '...args: unknown[]';
  const returns = tool.output ? typeOfSchema(jsonSchemaOf(tool.output)) : 'unknown';
  const lines = [`- await ${tool.name}(${params}): Promise<${returns}>`];
  if (tool.description) lines.push(`  ${tool.description.trim()}`);
  args.forEach((arg, i) => {
    if (arg.description) lines.push(`  argument ${i + 1}: ${arg.description}`);
  });
  return lines.join('\n');
}

/** The tools section of the system prompt. */
export function describeTools(tools: Iterable<ToolDefinition>): string {
  const list = [...tools];
  if (list.length === 0) return 'None. Do not call any function that is not defined in your own code.';
  return [
    'Call them with await; arguments and results are copied as JSON. A failing tool throws an error you can catch.',
    'Each is also available as tools.<name>, e.g. tools.' + (list[0] as ToolDefinition).name + '(...).',
    ...list.map(describeTool),
  ].join('\n');
}
