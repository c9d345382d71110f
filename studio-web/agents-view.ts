// The agents: the live catalog with each agent's node (on a mesh), or the roles the result log names.
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { getJson } from './api.js';
import type { Agent } from './types.js';

export function AgentsView() {
  const [agents, setAgents] = useState<Agent[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    getJson<{ agents: Agent[] }>('agents')
      .then((r) => setAgents(r.agents))
      .catch((e: Error) => setError(e.message));
  }, []);
  if (error) return html`<p class="bad">${error}</p>`;
  if (!agents) return null;
  if (agents.length === 0) return html`<p class="dim">No agents yet.</p>`;
  return html`<table data-testid="agents-table">
    <thead><tr><th>agent</th><th>node</th><th>shape</th><th>tags</th><th>description</th></tr></thead>
    <tbody>${agents.map(
      (
        a,
      ) => html`<tr data-agent=${a.name}><td>${a.name}</td><td>${a.node ?? html`<span class="dim">(from the result log)</span>`}</td>
        <td>${a.shape ?? '–'}</td><td>${a.tags.join(', ')}</td><td>${a.description}</td></tr>`,
    )}</tbody></table>`;
}
