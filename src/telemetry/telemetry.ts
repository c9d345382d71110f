/**
 * What a mesh observes its work with: its metrics, and whether spans may carry prompt and code text
 * (`OTEL_RECORD_CONTENT`), with the secrets to take out of that text first. Built once at `mesh.start()`.
 */
import type { Settings } from '../config/settings.js';
import { redactSecrets, secretsOf } from '../llm/redact.js';
import type { MeshMetrics } from './metrics.js';

export interface Telemetry {
  readonly metrics: MeshMetrics;
  /** Returns the text for a span attribute, secrets taken out; null when content is not recorded. */
  content(text: string): string | null;
}

export function telemetryFor(settings: Settings, metrics: MeshMetrics): Telemetry {
  if (!settings.OTEL_RECORD_CONTENT) return { metrics, content: () => null };
  const secrets = secretsOf(settings);
  return { metrics, content: (text) => redactSecrets(text, secrets) };
}
