/** Which language a piece of code is in: Python, shell commands, JSON data, TypeScript (else JavaScript). */

/** Lines only Python has: `def f(x):`, `import numpy as np`, `for x in xs:`, `elif`, `except`... */
const PYTHON_LINE =
  /^\s*(?:(?:async\s+)?def\s+\w+\s*\(.*\)\s*(?:->\s*[^:]+)?:|class\s+\w+(?:\(.*\))?:|(?:el)?if\s+.+:|else:|for\s+[\w, ()]+\s+in\s+.+:|while\s+.+:|try:|except\b.*:|finally:|with\s+.+:|from\s+[\w.]+\s+import\s+[\w*(]|import\s+[\w.]+(?:\s+as\s+\w+)?(?:\s*,\s*[\w.]+)*)\s*(?:#.*)?$/;
/** Lines only JavaScript has. */
export const JS_ONLY_LINE = /;\s*$|^\s*(?:const|let|var|function)\s|=>|^\s*\}/;

export function looksLikePython(code: string): boolean {
  let py = 0;
  let js = 0;
  for (const line of code.split('\n')) {
    if (PYTHON_LINE.test(line)) py++;
    else if (JS_ONLY_LINE.test(line)) js++;
  }
  return py > 0 && py >= js;
}

const SHELL_LINE =
  /^\s*(?:\$\s+\S|(?:npm|npx|yarn|pnpm|node|deno|bun|tsx|ts-node|pip3?|python3?|cd|ls|mkdir|curl|wget|git|chmod)\s+[\w@./"'=~-]|(?:npm|yarn|pnpm)\s*$|export\s+[A-Z_]+=)/;

export function looksLikeShell(code: string): boolean {
  const lines = code.split('\n').filter((l) => l.trim() !== '' && !/^\s*#/.test(l));
  return lines.length > 0 && lines.every((l) => SHELL_LINE.test(l));
}

export function looksLikeJson(code: string): boolean {
  if (!/^[[{]/.test(code.trim())) return false;
  try {
    JSON.parse(code);
    return true;
  } catch {
    return false;
  }
}

/**
 * Type annotations, interfaces, casts: run on code whose strings and comments are blanked out. Look-aheads
 * are bounded (`{0,80}`) so that a degenerate reply (a model stuck repeating `):`) stays linear.
 */
const TS_PATTERNS: RegExp[] = [
  /^\s*(?:export\s+)?(?:interface|enum)\s+[A-Za-z_$][\w$]*/m,
  /^\s*(?:export\s+)?type\s+[A-Za-z_$][\w$]*\s*(?:<[^>]*>)?\s*=/m,
  /\b(?:const|let|var)\s+[\w$]+\s*:\s*[\w$[{('"]/, // const x: number
  /[(,]\s*[\w$]+\??\s*:\s*(?:string|number|boolean|any|unknown|object|(?:Record|Array|Promise|Map|Set|Partial)<)/, // (a: number)
  /\)\s*:\s*(?:string|number|boolean|void|any|unknown|never|Promise<|Record<|Array<|[A-Z][\w$]*(?:\[\])?)[^;{=\n]{0,80}(?:\{|=>)/, // return type
  /[\w$)\]]\s+as\s+(?:const|string|number|boolean|any|unknown|[A-Z][\w$]*)\b/, // cast
  /\b(?:private|public|protected|readonly)\s+[\w$]+\s*[:;=(?]/,
  /\b[\w$]+<(?:string|number|boolean|any|unknown|[A-Z][\w$]*)(?:\[\])?(?:\s*,\s*[^>\n]{1,80})?>\(/, // new Map<string, number>()
];

export function looksLikeTypeScript(stripped: string): boolean {
  return TS_PATTERNS.some((re) => re.test(stripped));
}
