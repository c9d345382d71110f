/**
 * Model-written text (outputs, code, errors, console lines, raw replies) made safe to print on a terminal:
 * escape sequences in it could clear the screen, set the window title, write the clipboard (OSC 52) or hide
 * what follows. Every control character except newline and tab is shown as a visible escape instead (`\x1b`,
 * `\u009b`), so nothing the model wrote reaches the terminal as a command. `--json` output is data and keeps the
 * text as it is (JSON.stringify escapes control characters anyway).
 */

// C0 controls except \t and \n, DEL, C1 controls, and the Unicode line/paragraph separators and bidi overrides
// (which reorder what the terminal shows).
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function visible(char: string): string {
  const code = char.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** `text` with every control character shown as an escape (`\x1b[2J` prints as the six characters `\x1b[2J`). */
export function safeText(text: string): string {
  return text.replace(/\r\n/g, '\n').replace(CONTROL, visible);
}
