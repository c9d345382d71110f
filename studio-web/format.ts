// How numbers and times read on the page.

export const cost = (usd: number | null | undefined): string =>
  usd === null || usd === undefined ? 'unpriced' : `$${usd.toFixed(usd < 0.01 ? 6 : 4)}`;

export const time = (iso: string | null | undefined): string =>
  iso ? iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, '') : '–';

export const percent = (part: number, whole: number): string =>
  whole === 0 ? '–' : `${Math.round((100 * part) / whole)}%`;

export const json = (value: unknown): string => JSON.stringify(value, null, 2) ?? 'null';
