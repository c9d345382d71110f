/**
 * The database schema. `PRAGMA user_version` holds its version, so a later automesh can migrate a file an earlier
 * one wrote, and an older automesh refuses a newer file instead of misreading it.
 *
 * Records are JSON text (`body`) beside the few columns that are queried, so a damaged body (bad JSON, hand edit)
 * affects only reads of that record: listings read the columns, not the body.
 */
export const SCHEMA_VERSION = 1;

export const SCHEMA_V1 = `
CREATE TABLE results (
  role TEXT NOT NULL,
  result_id TEXT NOT NULL,
  task TEXT NOT NULL,
  status TEXT NOT NULL,
  created_at TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY (role, result_id)
);
CREATE INDEX results_by_time ON results (created_ms, role, result_id);
CREATE INDEX results_by_id ON results (result_id);

CREATE TABLE registry_entries (
  id TEXT PRIMARY KEY,
  task_key TEXT NOT NULL,
  body TEXT NOT NULL
);
CREATE INDEX registry_by_task_key ON registry_entries (task_key);
-- Full-text index over what a person searches for; rowid = registry_entries.rowid.
CREATE VIRTUAL TABLE registry_search USING fts5 (task, role, labels, code, tokenize = 'unicode61');

CREATE TABLE workflow_leases (
  workflow_id TEXT PRIMARY KEY,
  run_id TEXT NOT NULL,
  host TEXT NOT NULL,
  pid INTEGER NOT NULL,
  since TEXT NOT NULL,
  generation INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  released INTEGER NOT NULL
);
CREATE TABLE workflow_headers (
  workflow_id TEXT PRIMARY KEY,
  body TEXT NOT NULL
);
CREATE TABLE workflow_steps (
  workflow_id TEXT NOT NULL,
  step_id TEXT NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY (workflow_id, step_id)
);
`;
