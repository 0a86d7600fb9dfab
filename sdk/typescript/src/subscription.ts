// The delivery bookkeeping of one live subscription (the TypeScript twin of the C++ client's
// SubscriptionState): which server messages become events, which are duplicates, and where a
// resubscription starts. The server delivers everything of a subscription (snapshot rows,
// replayed deletes, changes) in strictly increasing `_seq` and names a changes-only
// subscription's read point in its ack, so one number — the largest `_seq` received — is the
// whole resume position: resubscribing with `from` = it loses and doubles nothing wherever the
// connection was cut, and anything at or below it is a duplicate. No I/O.
import { SeqId } from './seq.js';
import { stringifyJson } from './json.js';
import { DecodeOptions, SchemaField, decodeValue } from './values.js';

export interface SubscriptionOptions {
  /** Rows per initial batch (server default 1000). */
  batch_size?: number;
  /** Only the newest N rows as initial data. */
  last_rows?: number;
  /** Start after this `_seq` (resume across sessions). */
  from?: SeqId | bigint | string | number;
}

export interface SubscribeOptions extends SubscriptionOptions, DecodeOptions {
  /** Ask for the current rows first (implied by batch_size / last_rows / from). Default true. */
  initialData?: boolean;
  /** Errors that end the subscription (it was refused, or failed too often). */
  onError?: (e: ErrorEvent) => void;
  /** Subscription id; generated when absent. */
  id?: string;
}

export type Row = Record<string, unknown>;

export interface BatchControl {
  batch_num: number;
  has_more: boolean;
  status: 'loading' | 'loading_batch' | 'ready' | string;
  last_seq_id: SeqId | null;
}

export interface AckEvent {
  type: 'subscription_ack';
  subscription_id: string;
  schema: SchemaField[];
  batch_control?: BatchControl;
}
export interface BatchEvent {
  type: 'initial_data_batch';
  subscription_id: string;
  rows: Row[];
  batch_control: BatchControl;
  /** Rows a resume delivered (changed while disconnected): upsert them by key. */
  catch_up: boolean;
}
export interface ChangeEvent {
  type: 'change';
  subscription_id: string;
  change_type: 'insert' | 'update' | 'delete';
  rows: Row[];
  old_values: Row[];
  /** A delete a resume replayed. */
  catch_up: boolean;
}
export interface ErrorEvent {
  type: 'error';
  subscription_id: string;
  code: string;
  message: string;
}
export type RawEvent = AckEvent | BatchEvent | ChangeEvent | ErrorEvent;

export interface SubscriptionInfo {
  id: string;
  /** The live SQL (the published SDK calls it tableName). */
  tableName: string;
  sql: string;
  /** The resume position: the largest `_seq` received (undefined before the first one). */
  lastSeqId?: SeqId;
  /** Acknowledged on the current connection. */
  active: boolean;
}

const MAX_FAILURES_WITHOUT_ACK = 10;

function rowSeq(r: Row): bigint {
  const s = r['_seq'];
  return typeof s === 'bigint' ? s : typeof s === 'string' || typeof s === 'number' ? BigInt(s) : 0n;
}

export class SubscriptionState {
  readonly id: string;
  readonly sql: string;
  readonly opts: SubscribeOptions;
  schema: SchemaField[] = [];
  lastSeq = 0n;
  positioned = false;
  sent = false;
  acked = false;
  everAcked = false;
  resuming = false;
  private changesOnly = false;
  private failuresSinceAck = 0;

  constructor(id: string, sql: string, opts: SubscribeOptions) {
    this.id = id;
    this.sql = sql;
    this.opts = opts;
    if (opts.from !== undefined) {
      this.lastSeq = SeqId.from(opts.from).value;
      this.positioned = true;
    }
  }

  info(): SubscriptionInfo {
    const i: SubscriptionInfo = { id: this.id, tableName: this.sql, sql: this.sql, active: this.acked };
    if (this.positioned) i.lastSeqId = new SeqId(this.lastSeq);
    return i;
  }

  markUnsent(): void {
    this.sent = false;
    this.acked = false;
  }

  private advance(seq: bigint): boolean {
    if (seq === 0n) return true; // nothing to order by
    if (seq <= this.lastSeq) return false;
    this.lastSeq = seq;
    this.positioned = true;
    return true;
  }

  /** The subscribe message: as asked until there is a position, then a resume from it. */
  subscribeMessage(): string {
    this.sent = true;
    this.acked = false;
    this.resuming = this.positioned;
    const o = this.opts;
    const wantsInitial = o.initialData !== false || o.batch_size !== undefined || o.last_rows !== undefined;
    this.changesOnly = !this.resuming && !wantsInitial;
    const sub: Record<string, unknown> = { id: this.id, sql: this.sql };
    if (this.resuming) {
      const options: Record<string, unknown> = {};
      if (o.batch_size !== undefined) options.batch_size = o.batch_size;
      options.from = this.lastSeq; // bigint: written as an exact integer literal
      sub.options = options;
    } else if (!this.changesOnly) {
      const options: Record<string, unknown> = {};
      if (o.batch_size !== undefined) options.batch_size = o.batch_size;
      if (o.last_rows !== undefined) options.last_rows = o.last_rows;
      sub.options = options;
    }
    return stringifyJson({ type: 'subscribe', subscription: sub });
  }

  private decodeRows(raw: unknown): Row[] {
    if (!Array.isArray(raw)) return [];
    const types = new Map(this.schema.map((f) => [f.name, f.data_type]));
    return raw.map((r: Record<string, unknown>) => {
      const out: Row = {};
      for (const [k, v] of Object.entries(r)) {
        out[k] = k === '_seq' ? (v === null ? null : BigInt(v as string)) : k === '_deleted' ? v : decodeValue(types.get(k) ?? 'Text', v, this.opts);
      }
      return out;
    });
  }

  private batchControl(raw: unknown): BatchControl {
    const bc = (raw ?? {}) as { batch_num?: number; has_more?: boolean; status?: string; last_seq_id?: unknown };
    const ls = bc.last_seq_id;
    return {
      batch_num: bc.batch_num ?? 0,
      has_more: bc.has_more ?? false,
      status: bc.status ?? 'ready',
      last_seq_id: ls === null || ls === undefined ? null : SeqId.from(ls as string),
    };
  }

  /** Returns the event to deliver (undefined for a resume's ack). */
  onAck(msg: Record<string, unknown>): AckEvent | undefined {
    if (Array.isArray(msg.schema)) this.schema = msg.schema as SchemaField[];
    this.acked = true;
    this.failuresSinceAck = 0;
    const bc = msg.batch_control ? this.batchControl(msg.batch_control) : undefined;
    // A changes-only subscription starts at the read point its ack names.
    if (this.changesOnly && bc?.last_seq_id) this.advance(bc.last_seq_id.value);
    if (this.everAcked) return undefined;
    this.everAcked = true;
    const ev: AckEvent = { type: 'subscription_ack', subscription_id: this.id, schema: this.schema };
    if (bc) ev.batch_control = bc;
    return ev;
  }

  /** Returns the event to deliver (if any) and the next_batch message to send (if any). */
  onBatch(msg: Record<string, unknown>): { event?: BatchEvent; reply?: string } {
    const rows = this.decodeRows(msg.rows).filter((r) => this.advance(rowSeq(r)));
    const bc = this.batchControl(msg.batch_control);
    const catchUp = this.resuming;
    let reply: string | undefined;
    if (bc.has_more) {
      reply = stringifyJson({ type: 'next_batch', subscription_id: this.id, last_seq_id: bc.last_seq_id ? bc.last_seq_id.value : null });
    }
    if (!bc.has_more) this.resuming = false; // caught up: what follows is live
    const event: BatchEvent = { type: 'initial_data_batch', subscription_id: this.id, rows, batch_control: bc, catch_up: catchUp };
    // After a resume only batches with rows (or the last one) matter to the consumer.
    if (catchUp && rows.length === 0 && bc.has_more) return { reply };
    return { event, reply };
  }

  onChange(msg: Record<string, unknown>): ChangeEvent | undefined {
    const kind = msg.change_type;
    if (kind !== 'insert' && kind !== 'update' && kind !== 'delete') return undefined;
    const rows = this.decodeRows(msg.rows);
    const old = this.decodeRows(msg.old_values);
    let seq = 0n;
    for (const r of kind === 'delete' ? old : rows) {
      const s = rowSeq(r);
      if (s > seq) seq = s;
    }
    if (!this.advance(seq)) return undefined; // duplicate
    return { type: 'change', subscription_id: this.id, change_type: kind, rows, old_values: old, catch_up: this.resuming };
  }

  /** The server ended the subscription with `code`: ms to wait before subscribing again, or
   * undefined when it is over (never worked, not a server-side close, or failing repeatedly). */
  onServerClose(code: string, minDelay: number, maxDelay: number): number | undefined {
    if (!(this.acked || this.everAcked)) return undefined;
    if (code !== 'SUBSCRIBER_LAGGING' && code !== 'SUBSCRIPTION_FAILED') return undefined;
    if (++this.failuresSinceAck > MAX_FAILURES_WITHOUT_ACK) return undefined;
    this.markUnsent();
    if (this.failuresSinceAck === 1) return 0;
    return Math.min(minDelay * 2 ** Math.min(this.failuresSinceAck - 2, 16), maxDelay);
  }
}
