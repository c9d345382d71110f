/**
 * Prompt templates: plain files in `prompts/` (or `PROMPT_DIRECTORY`) with named `{{slots}}`. A leading
 * HTML comment documents the template and is not sent. Loading checks that each template uses only the
 * slots its renderer fills, so a typo in a user's override fails at start, not in a model call.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = (here + sep).includes(`${sep}dist${sep}src${sep}`) ? resolve(here, '../../..') : resolve(here, '../..');
/** The prompts shipped with automesh. */
export const DEFAULT_PROMPT_DIRECTORY = join(root, 'prompts');

export const TEMPLATE_SLOTS = {
  system: ['systemPrompt', 'tools', 'context', 'output'],
  codegen: ['task'],
  repair: ['task', 'code', 'category', 'line', 'error', 'logs', 'history'],
} as const;

export type TemplateName = keyof typeof TEMPLATE_SLOTS;

export interface Template {
  name: TemplateName;
  path: string;
  text: string;
  /** sha256 of the template text, stored with every result. */
  hash: string;
}

export type PromptTemplates = Record<TemplateName, Template>;

const SLOT = /\{\{\s*([A-Za-z][A-Za-z0-9]*)\s*\}\}/g;

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function loadTemplate(directory: string, name: TemplateName): Template {
  const path = join(directory, `${name}.md`);
  if (!existsSync(path)) {
    throw new Error(
      `Prompt template ${path} is missing. Copy it from ${DEFAULT_PROMPT_DIRECTORY} or unset PROMPT_DIRECTORY.`,
    );
  }
  const text = readFileSync(path, 'utf8')
    .replace(/\r\n/g, '\n')
    .replace(/^<!--[\s\S]*?-->\n?/, '');
  const allowed: readonly string[] = TEMPLATE_SLOTS[name];
  const unknown = [...text.matchAll(SLOT)].map((m) => m[1] as string).filter((slot) => !allowed.includes(slot));
  if (unknown.length > 0) {
    throw new Error(
      `Prompt template ${path} uses unknown slot(s) ${[...new Set(unknown)].map((s) => `{{${s}}}`).join(', ')}; `
        + `it may use ${allowed.map((s) => `{{${s}}}`).join(', ')}.`,
    );
  }
  return { name, path, text, hash: sha256(text) };
}

/** Loads the three templates from `directory` (default: the shipped ones). */
export function loadPromptTemplates(directory = DEFAULT_PROMPT_DIRECTORY): PromptTemplates {
  return {
    system: loadTemplate(directory, 'system'),
    codegen: loadTemplate(directory, 'codegen'),
    repair: loadTemplate(directory, 'repair'),
  };
}

/** Fills a template's slots; every slot it uses must be given. */
export function render(template: Template, values: Record<string, string>): string {
  return template.text
    .replace(SLOT, (_, slot: string) => {
      const value = values[slot];
      if (value === undefined) throw new Error(`No value for {{${slot}}} in prompt template ${template.path}.`);
      return value;
    })
    .trim();
}
