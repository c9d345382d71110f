/** Tells a line of code from a line of prose, one trimmed line at a time. */

/** Patterns of a line (trimmed, at top level) that starts or ends like JavaScript rather than English. */
const JS_LINE: RegExp[] = [
  /^(?:const|let|var)\s+(?:[\w$]+\s*(?:[=:;,]|$)|[{[])/, // declarations, not "let me explain"
  /^(?:async\s+)?function\b/,
  /^(?:import|export)\s+[\w{*'"]/,
  /^(?:if|for|while|switch|catch|with)\s*\(/,
  /^(?:else|try|finally|do)\b\s*(?:\{|if\b|$)/,
  /^(?:return|throw)\b(?:\s|;|$)/,
  /^(?:await|yield|new|delete|typeof|void)\s/,
  /^(?:break|continue|debugger)\s*;?$/,
  /^(?:class|interface|enum|namespace)\s+[\w$]+/,
  /^type\s+[\w$]+\s*(?:<.*>)?\s*=/,
  /^(?:case\s.+|default\s*):/,
  /^(?:\/\/|\/\*|\*\/)/,
  /^[}\])]/,
  /^\.{1,3}[\w$]/, // chained call, spread
  /^(?:\?\?|\?|:|&&|\|\|)\s*\S/, // continued expression
  /^\(\s*(?:async\b|function\b|\(|\))/, // IIFE
  /^['"]use strict['"]/,
  /^[\w$]+(?:\??\.[\w$]+|\[[^\]]*\])*\s*(?:[-+*/%&|^]|\*\*|&&|\|\||\?\?)?=(?!=)/, // assignment
  /^[\w$]+(?:\??\.[\w$]+)*\(/, // call (no space before the paren: "Note (see above)" is prose)
  /^(?:\+\+|--)[\w$]|^[\w$]+(?:\+\+|--)/,
  /^\[[\w$,\s.]*\]\s*=(?!=)/, // [a, b] = ...
  /(?:;|\{|=>|\(|\[)\s*(?:\/\/.*)?$/, // ends like a statement or an opened block
];

export function isJsCodeLine(t: string): boolean {
  if (t === '' || /^(?:#{1,6}\s|[-+*]\s|\d+[.)]\s|>|\*\*|__|!\[|\|)/.test(t)) return false; // markdown
  return JS_LINE.some((re) => re.test(t));
}

/**
 * Clearly a sentence or markdown, never code (given that it is not a code line): markdown, capitalized text,
 * words ending like a sentence ("then we sum:"), or four words with no operator or bracket.
 */
export function isProse(t: string): boolean {
  if (/^(?:#{1,6}\s|[-+*]\s|\d+[.)]\s|>|\*\*|__|!\[|\|)/.test(t)) return true;
  if (/^[A-Z]/.test(t)) return true;
  const words = t.split(/\s+/).length;
  return (words >= 2 && /[.:!?]$/.test(t)) || (words >= 4 && !/[=+*/(){}[\];<>]/.test(t));
}

const PYTHON_CODE_LINE =
  /^(?:\s+\S|(?:def|class|import|from|return|print|if|elif|else|for|while|try|except|finally|with|raise|async|await|assert|pass|yield|lambda)\b|@\w|[\w$.[\]'"]+\s*[-+*/]?=|[\w.]+\(|[)\]}])/;

export function isPythonCodeLine(line: string): boolean {
  return PYTHON_CODE_LINE.test(line);
}
