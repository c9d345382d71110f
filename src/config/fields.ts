/**
 * Validators of one setting each, named in their messages: the general settings (settings.ts) and each
 * provider's own (src/llm/providers/) are built from these, so every bad value reads the same way.
 */
import { z } from 'zod';

export const number = (name: string, min: number, max: number) =>
  z.coerce.number({ error: `${name} must be a number` }).refine((n) => Number.isFinite(n) && n >= min && n <= max, {
    message: `${name} must be between ${min} and ${max}`,
  });

export const integer = (name: string, min: number, max: number) =>
  number(name, min, max).refine(Number.isInteger, { message: `${name} must be a whole number` });

export const text = (name: string) =>
  z
    .string({ error: `${name} must be text` })
    .trim()
    .min(1, `${name} must not be empty`);

export const url = (name: string) =>
  text(name).refine(
    (value) => {
      try {
        const parsed = new URL(value);
        return parsed.protocol === 'http:' || parsed.protocol === 'https:';
      } catch {
        return false;
      }
    },
    { message: `${name} must be an http(s) URL, e.g. http://localhost:8000` },
  );

export const boolean = (name: string) =>
  z.union([z.boolean(), z.string()]).transform((value, ctx) => {
    if (typeof value === 'boolean') return value;
    const v = value.trim().toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(v)) return true;
    if (['false', '0', 'no', 'off'].includes(v)) return false;
    ctx.addIssue({ code: 'custom', message: `${name} must be true or false` });
    return z.NEVER;
  });
