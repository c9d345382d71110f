/**
 * Token counts as providers report them. A count must be a non-negative whole number; a usage block with
 * strings, negative or fractional numbers is not trusted (a reported cost of -3 USD came from one): the chain
 * then estimates the tokens, marks them as estimated, and reports the cost as unknown (null).
 */

/** The count, or null when the value is not a non-negative safe integer. */
export function tokenCount(value: unknown): number | null {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : null;
}

/** A required count plus optional ones (absent counts as 0); null when any present value is not a count. */
export function sumTokenCounts(required: unknown, ...optional: unknown[]): number | null {
  let total = tokenCount(required);
  for (const value of optional) {
    if (value === undefined || value === null) continue;
    const count = tokenCount(value);
    total = total === null || count === null ? null : total + count;
  }
  return total;
}
