/** The shapes extraction hands around: what `extractCode` returns, and a fenced block as the reply holds it. */

export type CodeLanguage = 'javascript' | 'typescript' | 'python' | 'other';

export interface ExtractedCode {
  ok: true;
  /** The program: never empty. Several blocks are joined with a blank line, in reply order. */
  code: string;
  language: CodeLanguage;
  /** True when the code came from fenced blocks, false when it was taken from unfenced text. */
  fenced: boolean;
  /** Number of fenced code blocks in the reply (0 when it had none). */
  blocks: number;
  /** why this block (for logs) */
  note: string;
  /** set when the code looks like Python or another language, to be shown to the model in the repair prompt */
  warning: string | null;
}

export interface NoCode {
  ok: false;
  /** Says what was wrong and what to do; shown to the model in the repair prompt. */
  reason: string;
}

/** What a block holds. `output` is data or program output (JSON, text), `shell` is commands to type. */
export type Kind = 'js' | 'ts' | 'python' | 'other' | 'shell' | 'output' | 'empty';

export interface Block {
  /** 1-based position among the reply's fenced blocks. */
  n: number;
  /** The fence's language word, lower-cased ('' when untagged). */
  tag: string;
  kind: Kind;
  code: string;
  /** The last two non-empty prose lines before the block: "Example usage:", "Here is the fix:". */
  intro: string;
}
