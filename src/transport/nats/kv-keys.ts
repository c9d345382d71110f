/**
 * Lists the keys of a KV bucket that have a value, without `@nats-io/kv`'s `keys()`.
 *
 * That `keys()` ends when a delivered message says nothing is pending, or on an idle heartbeat; while other clients
 * update and delete keys of the bucket (mailbox readers acknowledging, workflow steps finishing) it was seen to wait
 * 30 s before ending, in about one listing in four (the same family as nats-server#3481 and nats.go#1884). Here an
 * ephemeral pull consumer (last value per subject, headers only, no acks) is read in fetches; the listing ends at the
 * first message with nothing pending after it, or once it has as many messages as were pending when it was made, or
 * when a fetch comes back empty: keys written after the listing began may or may not be in it, as with any snapshot.
 *
 * Most listings under a prefix find nothing (a task's registry index before its first entry, a new workflow's
 * records), and making, reading and deleting a consumer is three JetStream API calls and a consumer set up on the
 * server: ~3.3 ms, against ~0.8 ms for one stream read. So one read asks first whether any message is stored under
 * the filter (`next_by_subj`, nats-server 2.9); only when one is (a value, or a delete marker) is the listing made.
 */
import { AckPolicy, DeliverPolicy, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';

/** The KV operation header: a key whose last message is a delete or purge has no value. */
const OPERATION = 'KV-Operation';
const BATCH = 1000;
/** How long one fetch may wait for messages the consumer said were pending. */
const FETCH_EXPIRES_MS = 2000;
/** The server drops the consumer if this process dies mid-listing. */
const INACTIVE_MS = 30_000;

export async function listKvKeys(
  js: JetStreamClient,
  jsm: JetStreamManager,
  bucket: string,
  filter: string,
): Promise<string[]> {
  const stream = `KV_${bucket}`;
  const prefix = `$KV.${bucket}.`;
  if (!(await mayHaveKeys(jsm, stream, `${prefix}${filter}`))) return [];
  const info = await jsm.consumers.add(stream, {
    ack_policy: AckPolicy.None,
    deliver_policy: DeliverPolicy.LastPerSubject,
    filter_subject: `${prefix}${filter}`,
    headers_only: true,
    mem_storage: true,
    inactive_threshold: nanos(INACTIVE_MS),
  });
  try {
    const keys: string[] = [];
    let remaining = info.num_pending;
    const consumer = await js.consumers.get(stream, info.name);
    while (remaining > 0) {
      const batch = await consumer.fetch({ max_messages: Math.min(remaining, BATCH), expires: FETCH_EXPIRES_MS });
      let got = 0;
      let done = false;
      for await (const message of batch) {
        got++;
        remaining--;
        const operation = message.headers?.get(OPERATION);
        if (operation !== 'DEL' && operation !== 'PURGE') keys.push(message.subject.slice(prefix.length));
        if (message.info.pending === 0) done = true;
      }
      if (done || got === 0) break;
    }
    return keys;
  } finally {
    // Best effort: a consumer left behind (connection lost just now) is removed by the server after INACTIVE_MS.
    await jsm.consumers.delete(stream, info.name).catch(() => undefined);
  }
}

/**
 * False only when the stream holds no message on `subject` (a filter): then no key under it has a value. A server
 * that cannot answer the question (an error of any kind) gets the full listing, as before.
 */
async function mayHaveKeys(jsm: JetStreamManager, stream: string, subject: string): Promise<boolean> {
  try {
    // `next_by_subj` is a field of the server's STREAM.MSG.GET request the client's type lists only for direct gets.
    const query = { seq: 0, next_by_subj: subject } as unknown as { seq: number };
    return (await jsm.streams.getMessage(stream, query)) !== null;
  } catch {
    return true;
  }
}
