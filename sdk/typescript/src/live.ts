// live(): the materialized row set of a live query. Events are applied to an insertion-ordered
// map keyed by the primary key: snapshot and resume rows upsert, inserts add, updates merge into
// the row in place (it keeps its position), deletes remove. `onRows` gets the whole set after the
// initial load and after every change; during a resume it waits for the catch-up to finish, so
// it never sees a half-applied state.
import type { KalamClient } from './client.js';
import { KalamError } from './errors.js';
import { ErrorEvent, RawEvent, Row, SubscribeOptions, SubscriptionOptions } from './subscription.js';
import { DecodeOptions, SchemaField } from './values.js';

export type LiveRow = Record<string, unknown>;

export interface LiveOptions extends DecodeOptions {
  /** Columns identifying a row; default: the schema's primary key (else `id`). */
  keyColumns?: string[];
  /** Keep at most this many rows (the oldest are dropped). */
  limit?: number;
  subscriptionOptions?: SubscriptionOptions;
  /** The subscription ended with an error (refused SQL, permission, retries exhausted). */
  onError?: (e: ErrorEvent) => void;
  id?: string;
}

function keyOf(row: Row, cols: string[]): string {
  if (cols.length === 1) return String(row[cols[0]!]);
  return cols.map((c) => String(row[c])).join('\u0000');
}

export class RowSet {
  readonly rows = new Map<string, LiveRow>();
  keyColumns: string[];

  constructor(keyColumns: string[] | undefined, private readonly limit?: number) {
    this.keyColumns = keyColumns ?? [];
  }

  setSchema(schema: SchemaField[]): void {
    if (this.keyColumns.length) return;
    const pk = schema.filter((f) => f.flags?.includes('pk')).map((f) => f.name);
    if (pk.length) this.keyColumns = pk;
    else if (schema.some((f) => f.name === 'id')) this.keyColumns = ['id'];
    else throw new KalamError('INVALID_ARGUMENT', 'live(): the query has no primary key column; pass keyColumns');
  }

  upsert(row: Row): void {
    const k = keyOf(row, this.keyColumns);
    this.rows.set(k, { ...row }); // an existing key keeps its place
    this.trim();
  }

  update(row: Row, old: Row | undefined): void {
    const k = keyOf(row, this.keyColumns);
    const cur = this.rows.get(k);
    const next: LiveRow = { ...(cur ?? {}), ...row };
    // `rows` omits columns that became NULL; `old_values` names every changed column.
    if (old) for (const c of Object.keys(old)) if (!(c in row) && c !== '_seq' && !this.keyColumns.includes(c)) next[c] = null;
    this.rows.set(k, next);
    this.trim();
  }

  remove(row: Row): void {
    this.rows.delete(keyOf(row, this.keyColumns));
  }

  private trim(): void {
    if (this.limit === undefined) return;
    while (this.rows.size > this.limit) {
      const first = this.rows.keys().next().value as string;
      this.rows.delete(first);
    }
  }

  /** Applies one event; true when the row set may have changed. */
  apply(e: RawEvent): boolean {
    switch (e.type) {
      case 'subscription_ack':
        this.setSchema(e.schema);
        return false;
      case 'initial_data_batch':
        for (const r of e.rows) this.upsert(r);
        return true;
      case 'change':
        if (e.change_type === 'insert') for (const r of e.rows) this.upsert(r);
        else if (e.change_type === 'update') e.rows.forEach((r, i) => this.update(r, e.old_values[i]));
        else for (const r of e.old_values) this.remove(r);
        return true;
      default:
        return false;
    }
  }

  snapshot(): LiveRow[] {
    return [...this.rows.values()];
  }
}

export async function materialize(client: KalamClient, sql: string, onRows: (rows: LiveRow[]) => void, options: LiveOptions): Promise<() => Promise<void>> {
  const set = new RowSet(options.keyColumns, options.limit);
  let loading = true; // initial load or a resume's catch-up in progress
  const onEvent = (e: RawEvent) => {
    if (e.type === 'error') return; // reported through onError
    const changed = set.apply(e);
    if (e.type === 'subscription_ack') return;
    if (e.type === 'initial_data_batch') {
      loading = e.batch_control.has_more;
      if (loading) return;
    } else if (e.catch_up) {
      loading = true; // a delete replayed by a resume: wait for its last batch
      return;
    }
    if (changed && !loading) onRows(set.snapshot());
  };
  const sub: SubscribeOptions = { ...(options.subscriptionOptions ?? {}) };
  if (options.parseJson) sub.parseJson = true;
  if (options.parseFiles) sub.parseFiles = true;
  if (options.onError) sub.onError = options.onError;
  if (options.id) sub.id = options.id;
  sub.initialData = true;
  return client.subscribeWithSql(sql, onEvent, sub);
}
