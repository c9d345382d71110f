/**
 * Describes the task's `context` to the model: keys, types and a short sample of each value, with large
 * values summarized (an array of 10,000 rows is one line), never dumped.
 */
import { propertyPath } from './json-data.js';

const MAX_KEYS = 25;
const MAX_DEPTH = 3;
const MAX_TEXT = 4000;

function sample(value: unknown): string {
  const text = JSON.stringify(value);
  if (text === undefined) return '';
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function shape(value: unknown, depth: number): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return value.length > 60
        ? `string (${value.length} chars, starts ${sample(value.slice(0, 40))})`
        : `string ${sample(value)}`;
    case 'number':
    case 'boolean':
      return `${typeof value} ${sample(value)}`;
    case 'object':
      break;
    default:
      return typeof value;
  }
  // The sandbox gets a Date as its ISO string (contexts are copied as JSON), so that is what to describe.
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'null' : `string ${sample(value.toISOString())}`;
  if (Array.isArray(value)) {
    if (value.length === 0) return 'array (empty)';
    const first = value[0];
    const itemShape = depth >= MAX_DEPTH ? (Array.isArray(first) ? 'array' : typeof first) : shape(first, depth + 1);
    return `array of ${value.length} (first item: ${itemShape})`;
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) return 'object (empty)';
  if (depth >= MAX_DEPTH)
    return `object with keys ${entries
      .slice(0, 10)
      .map(([k]) => k)
      .join(', ')}${entries.length > 10 ? ', ...' : ''}`;
  const indent = '  '.repeat(depth + 1);
  const lines = entries.slice(0, MAX_KEYS).map(([k, v]) => `${indent}${k}: ${shape(v, depth + 1)}`);
  if (entries.length > MAX_KEYS) lines.push(`${indent}... ${entries.length - MAX_KEYS} more keys`);
  return `{\n${lines.join('\n')}\n${'  '.repeat(depth)}}`;
}

/** What generated code can use of a dependency's envelope; the rest (timings, ids, attempts) is left out. */
const DEPENDENCY_FIELDS = ['status', 'output', 'error'] as const;

/**
 * The context as the prompt shows it. A workflow step's context holds each dependency's whole envelope twice
 * (`context[dep]` and `context.previousStepResults[dep]`); the prompt shows each once, with only the fields code
 * can use. That keeps the prompt short, and free of what changes from run to run (`executionTime`, `resultId`,
 * `agentId`), so a recorded workflow replays.
 */
function promptView(context: Record<string, unknown>, dependencies: readonly string[]): Record<string, unknown> {
  const view: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(context)) {
    if (key === 'previousStepResults') continue;
    if (!dependencies.includes(key) || value === null || typeof value !== 'object') {
      view[key] = value;
      continue;
    }
    const envelope = value as Record<string, unknown>;
    view[key] = Object.fromEntries(DEPENDENCY_FIELDS.map((field) => [field, envelope[field] ?? null]));
  }
  return view;
}

function describeDependencies(dependencies: readonly string[]): string {
  const names = dependencies.map((d) => `\`${propertyPath('context', d)}\``);
  const list = names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
  return (
    `\n${list} ${names.length === 1 ? 'is the result of the step' : 'are the results of the steps'} this one `
    + "depends on, also under `context.previousStepResults`; read a step's answer from its `output`."
  );
}

/**
 * The context section of the system prompt. `dependencies` names the keys that hold a workflow step's
 * dependency envelopes (set by the workflow engine).
 */
export function describeContext(context: unknown, dependencies: readonly string[] = []): string {
  if (
    context === undefined
    || context === null
    || (typeof context === 'object' && Object.keys(context as object).length === 0)
  ) {
    return 'Empty: `context` is {}. The task says everything you need.';
  }
  const shown = dependencies.length > 0 ? promptView(context as Record<string, unknown>, dependencies) : context;
  let text = `\`context\` (read-only) has this shape:\ncontext = ${shape(shown, 0)}`;
  if (text.length > MAX_TEXT) text = `${text.slice(0, MAX_TEXT)}\n... (shape cut; read the keys you need from context)`;
  return dependencies.length > 0 ? text + describeDependencies(dependencies) : text;
}
