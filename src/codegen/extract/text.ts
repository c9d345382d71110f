/** Whitespace helpers shared by the fenced and the unfenced paths. */

/** Removes the fence's own indentation (a fence inside a list item indents its whole body). */
export function dedent(line: string, width: number): string {
  let k = 0;
  while (k < width && (line[k] === ' ' || line[k] === '\t')) k++;
  return line.slice(k);
}

export function trimBlankLines(code: string): string {
  return code.replace(/^(?:[ \t]*\n)+/, '').trimEnd();
}

export function lastLines(lines: string[], count: number): string {
  return lines
    .filter((l) => l.trim() !== '')
    .slice(-count)
    .join('\n');
}

/** Removes the indentation common to all lines: a markdown indented code block (4 spaces) is not the code's. */
export function dedentAll(code: string): string {
  const widths = code
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => /^[ \t]*/.exec(l)?.[0].length ?? 0);
  const width = Math.min(...widths);
  return width > 0
    ? code
        .split('\n')
        .map((l) => dedent(l, width))
        .join('\n')
    : code;
}
