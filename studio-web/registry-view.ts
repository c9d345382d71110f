// The code registry: full-text search, counts per stage, each entry's counts, provenance and code.
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { getJson } from './api.js';
import { time } from './format.js';
import type { RegistryEntry, RegistryLine } from './types.js';

interface Listing {
  entries: RegistryLine[];
  stages: Record<string, number>;
  damaged: Array<{ kind: string; id: string; reason: string }>;
}

function EntryPanel({ id }: { id: string }) {
  const [entry, setEntry] = useState<RegistryEntry | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    getJson<RegistryEntry>(`registry/${encodeURIComponent(id)}`)
      .then(setEntry)
      .catch((e: Error) => setError(e.message));
  }, [id]);
  if (error) return html`<p class="bad">${error}</p>`;
  if (!entry) return null;
  return html`<section class="panel" data-testid="registry-entry">
    <h3>${entry.id} <span class="badge">${entry.stage}</span></h3>
    <p class="task">${entry.task}</p>
    <p class="dim">role ${entry.role} · ${entry.successCount} successes · ${entry.failureCount} failures · written by
      ${entry.provenance.provider ?? '–'} / ${entry.provenance.model ?? '–'} on ${time(entry.provenance.createdAt)}</p>
    ${entry.lastError ? html`<p class="bad">last error: ${entry.lastError}</p>` : null}
    <pre data-testid="registry-code">${entry.code}</pre>
  </section>`;
}

export function RegistryView() {
  const [draft, setDraft] = useState('');
  const [query, setQuery] = useState('');
  const [listing, setListing] = useState<Listing | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  useEffect(() => {
    getJson<Listing>(query ? `registry?q=${encodeURIComponent(query)}` : 'registry')
      .then((l) => {
        setListing(l);
        setError(null);
      })
      .catch((e: Error) => setError(e.message));
  }, [query]);
  const search = (event: Event) => {
    event.preventDefault();
    setOpen(null);
    setQuery(draft.trim());
  };
  return html`<div>
    <form class="search" onSubmit=${search}>
      <input data-testid="registry-search" placeholder="search tasks, roles, labels and code"
        value=${draft} onInput=${(e: Event) => setDraft((e.target as HTMLInputElement).value)} />
      <button type="submit">search</button>
    </form>
    ${error ? html`<p class="bad">${error}</p>` : null}
    ${
      listing
        ? html`<p class="stages" data-testid="registry-stages">
            ${listing.entries.length} ${query ? `matching "${query}"` : 'entries'}:
            ${Object.entries(listing.stages).map(([stage, n]) => html`<span class="badge">${stage} ${n}</span> `)}
          </p>
          ${listing.damaged.map((d) => html`<p class="bad">damaged ${d.kind} ${d.id}: ${d.reason}</p>`)}
          <table data-testid="registry-table">
            <thead><tr><th>id</th><th>role</th><th>task</th><th>stage</th><th>ok</th><th>failed</th><th>last used</th></tr></thead>
            <tbody>
              ${listing.entries.map(
                (
                  e,
                ) => html`<tr key=${e.id} data-entry=${e.id} class=${open === e.id ? 'selected' : ''} onClick=${() => setOpen(e.id)}>
                  <td><code>${e.id}</code></td><td>${e.role}</td><td>${e.task}</td><td>${e.stage}</td>
                  <td>${e.successCount}</td><td>${e.failureCount}</td><td>${time(e.lastUsedAt)}</td>
                </tr>`,
              )}
            </tbody>
          </table>`
        : null
    }
    ${open ? html`<${EntryPanel} id=${open} />` : null}
  </div>`;
}
