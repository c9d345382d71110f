/**
 * Describes the task's `context` to the model: keys, types and a short sample of each value, with large
 * values summarized (an array of 10,000 rows is one line), never dumped.
 */

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
      return value.length > 60 ? `string (${value.length} chars, starts ${sample(value.slice(0, 40))})` : `string ${sample(value)}`;
    case 'number':
    case 'boolean':
      return `${typeof value} ${sample(value)}`;
    case 'object':
      break;
    default:
      return typeof value;
  }
  if (Array.isArray(value)) {
    if (value.length === 0) return 'array (empty)';
    const first = value[0];
    const itemShape = depth >= MAX_DEPTH ? (Array.isArray(first) ? 'array' : typeof first) : shape(first, depth + 1);
    return `array of ${value.length} (first item: ${itemShape})`;
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) return 'object (empty)';
  if (depth >= MAX_DEPTH) return `object with keys ${entries.slice(0, 10).map(([k]) => k).join(', ')}${entries.length > 10 ? ', ...' : ''}`;
  const indent = '  '.repeat(depth + 1);
  const lines = entries.slice(0, MAX_KEYS).map(([k, v]) => `${indent}${k}: ${shape(v, depth + 1)}`);
  if (entries.length > MAX_KEYS) lines.push(`${indent}... ${entries.length - MAX_KEYS} more keys`);
  return `{\n${lines.join('\n')}\n${'  '.repeat(depth)}}`;
}

/** The context section of the system prompt. */
export function describeContext(context: unknown): string {
  if (context === undefined || context === null ||
    (typeof context === 'object' && Object.keys(context as object).length === 0)) {
    return 'Empty: `context` is {}. The task says everything you need.';
  }
  let text = `\`context\` (read-only) has this shape:\ncontext = ${shape(context, 0)}`;
  if (text.length > MAX_TEXT) text = `${text.slice(0, MAX_TEXT)}\n... (shape cut; read the keys you need from context)`;
  return text;
}
