/**
 * zod's issues in pydantic's shape: `{ type, loc, msg, input, ctx? }`, the list OpenAgentMesh main puts in an
 * `invalid_input` envelope's `details.errors` (`ve.errors(include_url=False)`, `oam-wire.md` §6). A Python caller
 * reading an automesh agent's validation error then sees the same types and messages it sees from a Python agent:
 *
 *   {"type": "int_parsing", "loc": ["a"], "msg": "Input should be a valid integer, unable to parse string as an integer", "input": "x"}
 *   {"type": "missing", "loc": ["b"], "msg": "Field required", "input": {"a": "x"}}
 *
 * zod reports `z.int()` given a string as "expected number"; whether a field is an integer is read from the JSON
 * Schema the agent publishes (the same one a caller sees), so the error says `int_parsing` as pydantic does.
 */
import type { z } from 'zod';

export interface PydanticError {
  type: string;
  /** Path of the failing value: keys and array indexes; empty for the whole input. */
  loc: Array<string | number>;
  msg: string;
  /** The failing value (for `missing`: the object the field is missing from), as pydantic reports it. */
  input: unknown;
  ctx?: Record<string, unknown>;
}

type JsonSchema = Record<string, unknown>;
type Issue = z.core.$ZodIssue;

/** pydantic's error list for zod's issues about `input`, validated against a schema described by `jsonSchema`. */
export function pydanticErrors(
  issues: readonly Issue[],
  input: unknown,
  jsonSchema: JsonSchema | null,
): PydanticError[] {
  return issues.flatMap((issue) => pydanticErrorsOf(issue, input, jsonSchema));
}

function pydanticErrorsOf(issue: Issue, input: unknown, jsonSchema: JsonSchema | null): PydanticError[] {
  const loc = issue.path.map((key) => (typeof key === 'symbol' ? String(key) : key));
  const value = valueAt(input, loc);
  const error = (type: string, msg: string, ctx?: Record<string, unknown>, at: unknown = value): PydanticError => ({
    type,
    loc,
    msg,
    input: jsonSafe(at),
    ...(ctx === undefined ? {} : { ctx }),
  });
  switch (issue.code) {
    case 'invalid_type':
      if (value === undefined) {
        return loc.length === 0
          ? [error('missing', 'Field required', undefined, null)]
          : [error('missing', 'Field required', undefined, valueAt(input, loc.slice(0, -1)))];
      }
      return [typeError(issue.expected, value, schemaAt(jsonSchema, loc), error)];
    case 'too_small':
      return [boundError(issue.origin, 'min', issue.minimum, issue.inclusive ?? true, value, error)];
    case 'too_big':
      return [boundError(issue.origin, 'max', issue.maximum, issue.inclusive ?? true, value, error)];
    case 'not_multiple_of':
      return [error('multiple_of', `Input should be a multiple of ${issue.divisor}`, { multiple_of: issue.divisor })];
    case 'invalid_value': {
      const expected = pythonChoice(issue.values.map(pythonRepr));
      return [error('literal_error', `Input should be ${expected}`, { expected })];
    }
    case 'unrecognized_keys':
      return issue.keys.map((key) => ({
        type: 'extra_forbidden',
        loc: [...loc, key],
        msg: 'Extra inputs are not permitted',
        input: jsonSafe(valueAt(value, [key])),
      }));
    case 'invalid_format':
      if (issue.format === 'regex' && issue.pattern !== undefined) {
        const pattern = issue.pattern.replace(/^\/(.*)\/[a-z]*$/s, '$1');
        return [error('string_pattern_mismatch', `String should match pattern '${pattern}'`, { pattern })];
      }
      return [error('value_error', `Value error, ${issue.message}`, { error: issue.message })];
    default:
      return [error('value_error', `Value error, ${issue.message}`, { error: issue.message })];
  }
}

type MakeError = (type: string, msg: string, ctx?: Record<string, unknown>) => PydanticError;

/** A value of the wrong type, with pydantic's `*_type` / `*_parsing` names. */
function typeError(expected: string, value: unknown, schema: JsonSchema | null, error: MakeError): PydanticError {
  const integer = expected === 'int' || schema?.type === 'integer';
  if (integer) {
    if (typeof value === 'string')
      return error('int_parsing', 'Input should be a valid integer, unable to parse string as an integer');
    if (typeof value === 'number')
      return error('int_from_float', 'Input should be a valid integer, got a number with a fractional part');
    return error('int_type', 'Input should be a valid integer');
  }
  switch (expected) {
    case 'number':
      return typeof value === 'string'
        ? error('float_parsing', 'Input should be a valid number, unable to parse string as a number')
        : error('float_type', 'Input should be a valid number');
    case 'string':
      return error('string_type', 'Input should be a valid string');
    case 'boolean':
      return typeof value === 'string'
        ? error('bool_parsing', 'Input should be a valid boolean, unable to interpret input')
        : error('bool_type', 'Input should be a valid boolean');
    case 'object':
    case 'record':
      return error('dict_type', 'Input should be a valid dictionary');
    case 'array':
    case 'tuple':
      return error('list_type', 'Input should be a valid list');
    case 'null':
      return error('none_required', 'Input should be None');
    default:
      return error('value_error', `Value error, expected ${expected}`, { error: `expected ${expected}` });
  }
}

/** A length or size bound: `string_too_short`, `too_long`, `greater_than_equal`, … */
function boundError(
  origin: string,
  side: 'min' | 'max',
  limit: number | bigint,
  inclusive: boolean,
  value: unknown,
  error: MakeError,
): PydanticError {
  const n = Number(limit);
  if (origin === 'string') {
    const plural = n === 1 ? 'character' : 'characters';
    return side === 'min'
      ? error('string_too_short', `String should have at least ${n} ${plural}`, { min_length: n })
      : error('string_too_long', `String should have at most ${n} ${plural}`, { max_length: n });
  }
  if (origin === 'array' || origin === 'set') {
    const actual = Array.isArray(value) ? value.length : value instanceof Set ? value.size : 0;
    const plural = n === 1 ? 'item' : 'items';
    return side === 'min'
      ? error('too_short', `List should have at least ${n} ${plural} after validation, not ${actual}`, {
          field_type: 'List',
          min_length: n,
          actual_length: actual,
        })
      : error('too_long', `List should have at most ${n} ${plural} after validation, not ${actual}`, {
          field_type: 'List',
          max_length: n,
          actual_length: actual,
        });
  }
  if (side === 'min') {
    return inclusive
      ? error('greater_than_equal', `Input should be greater than or equal to ${n}`, { ge: n })
      : error('greater_than', `Input should be greater than ${n}`, { gt: n });
  }
  return inclusive
    ? error('less_than_equal', `Input should be less than or equal to ${n}`, { le: n })
    : error('less_than', `Input should be less than ${n}`, { lt: n });
}

/** The value at `path` inside `root`, or undefined. */
function valueAt(root: unknown, path: ReadonlyArray<string | number>): unknown {
  let here = root;
  for (const key of path) {
    if (typeof here !== 'object' || here === null) return undefined;
    here = (here as Record<string | number, unknown>)[key];
  }
  return here;
}

/** The JSON Schema of the value at `path` (through `properties`, `items`, `prefixItems`), or null. */
function schemaAt(schema: JsonSchema | null, path: ReadonlyArray<string | number>): JsonSchema | null {
  let here = schema;
  for (const key of path) {
    if (here === null) return null;
    const properties = here.properties as Record<string, JsonSchema> | undefined;
    const prefix = here.prefixItems as JsonSchema[] | undefined;
    if (typeof key === 'string' && properties?.[key]) here = properties[key];
    else if (typeof key === 'number' && prefix?.[key]) here = prefix[key];
    else if (typeof key === 'number' && typeof here.items === 'object' && here.items !== null)
      here = here.items as JsonSchema;
    else return null;
  }
  return here;
}

/** What JSON can carry of a failing input (a bigint or a function would break the envelope). */
function jsonSafe(value: unknown): unknown {
  if (value === undefined) return null;
  try {
    return JSON.parse(
      JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) ?? 'null',
    );
  } catch {
    return String(value);
  }
}

/** How Python's repr writes a literal: 'a', 1, True, None. */
function pythonRepr(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (value === null || value === undefined) return 'None';
  return String(value);
}

/** pydantic's "'a', 'b' or 'c'". */
function pythonChoice(options: string[]): string {
  if (options.length <= 1) return options[0] ?? '';
  return `${options.slice(0, -1).join(', ')} or ${options[options.length - 1]}`;
}
