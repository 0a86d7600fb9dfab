// LiveConnection: one WebSocket to /v1/ws carrying every subscription of a client. It
// authenticates (Bearer header on Node, in-band `authenticate` in browsers), keeps the
// connection alive, inflates gzip frames, fetches initial batches, and on every drop reconnects
// with back-off and resubscribes each subscription from its last `_seq` (subscription.ts). A
// subscription the server ends on its own (SUBSCRIBER_LAGGING, KILL LIVE QUERY) is resubscribed
// the same way.
import { TokenManager } from './auth.js';
import { KalamError } from './errors.js';
import { parseJson, stringifyJson } from './json.js';
import { ErrorEvent, RawEvent, SubscribeOptions, SubscriptionInfo, SubscriptionState } from './subscription.js';
import { Opener, WireSocket, gunzip, isNode, openBrowserSocket, openNodeSocket } from './transport.js';

export interface LiveConnectionOptions {
  /** "header": Authorization on the upgrade (Node default); "in-band": an `authenticate`
   * message (browser default; browsers cannot set WebSocket headers). */
  wsAuth: 'header' | 'in-band';
  /** Ask for gzip binary frames for large messages (default true). */
  compression: boolean;
  /** Reconnect after a drop (default true). */
  reconnect: boolean;
  reconnectMinDelayMs: number;
  reconnectMaxDelayMs: number;
  /** Consecutive failed reconnects before giving up (default unlimited). */
  maxReconnectAttempts: number;
  pingIntervalMs: number;
  /** A connection that received nothing for this long is treated as dead. */
  idleTimeoutMs: number;
  connectTimeoutMs: number;
  onConnect?: () => void;
  onDisconnect?: (reason: { code: number; message: string }) => void;
  /** WebSocket factory override (tests, custom runtimes). */
  opener?: Opener;
}

interface Entry {
  state: SubscriptionState;
  onEvent: (e: RawEvent) => void;
  ack?: { resolve: () => void; reject: (e: Error) => void };
}

let idCounter = 0;

export class LiveConnection {
  private readonly o: LiveConnectionOptions;
  private readonly subs = new Map<string, Entry>();
  private socket?: WireSocket;
  private gen = 0;
  private authed = false;
  private everConnected = false;
  private closedByUser = false;
  private connecting = false;
  private failures = 0;
  private waiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  private queue: Promise<void> = Promise.resolve();
  private pingTimer?: ReturnType<typeof setInterval>;
  private reconnectTimer?: ReturnType<typeof setTimeout>;
  private lastRecv = 0;
  private token?: string;
  /** Connections opened (diagnostics and tests). */
  connects = 0;
  /** Binary (gzip) frames inflated (diagnostics and tests). */
  gzipFrames = 0;
  /** Messages the client could not handle (each one dropped the connection). */
  readonly protocolErrors: string[] = [];
  /** Subscriptions the server ended on its own, by error code (diagnostics and tests). */
  readonly serverCloses: Record<string, number> = {};

  constructor(
    private readonly baseUrl: string,
    private readonly tokens: TokenManager,
    opts: Partial<LiveConnectionOptions>,
  ) {
    this.o = {
      wsAuth: opts.wsAuth ?? (isNode ? 'header' : 'in-band'),
      compression: opts.compression ?? true,
      reconnect: opts.reconnect ?? true,
      reconnectMinDelayMs: opts.reconnectMinDelayMs ?? 100,
      reconnectMaxDelayMs: opts.reconnectMaxDelayMs ?? 5000,
      maxReconnectAttempts: opts.maxReconnectAttempts ?? Infinity,
      pingIntervalMs: opts.pingIntervalMs ?? 4000,
      idleTimeoutMs: opts.idleTimeoutMs ?? 15000,
      connectTimeoutMs: opts.connectTimeoutMs ?? 10000,
      ...(opts.onConnect ? { onConnect: opts.onConnect } : {}),
      ...(opts.onDisconnect ? { onDisconnect: opts.onDisconnect } : {}),
      ...(opts.opener ? { opener: opts.opener } : {}),
    };
  }

  isConnected(): boolean {
    return this.authed;
  }

  subscriptions(): SubscriptionInfo[] {
    return [...this.subs.values()].map((e) => e.state.info());
  }

  /** Resolves once authenticated. Before the first success a failure rejects; afterwards the
   * connection reconnects on its own. */
  connect(): Promise<void> {
    if (this.closedByUser) return Promise.reject(new KalamError('CLOSED', 'client disconnected'));
    if (this.authed) return Promise.resolve();
    const p = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (!this.connecting && this.reconnectTimer === undefined) this.open();
    return p;
  }

  async subscribe(sql: string, onEvent: (e: RawEvent) => void, opts: SubscribeOptions): Promise<string> {
    const id = opts.id ?? `sub-${++idCounter}-${Math.random().toString(36).slice(2, 8)}`;
    if (this.subs.has(id)) throw new KalamError('INVALID_ARGUMENT', `duplicate subscription id ${id}`);
    const entry: Entry = { state: new SubscriptionState(id, sql, opts), onEvent };
    const acked = new Promise<void>((resolve, reject) => (entry.ack = { resolve, reject }));
    this.subs.set(id, entry);
    try {
      await this.connect();
      if (this.authed && !entry.state.sent && this.subs.get(id) === entry) this.send(entry.state.subscribeMessage());
      await acked;
    } catch (e) {
      this.subs.delete(id);
      throw e;
    }
    return id;
  }

  async unsubscribe(id: string): Promise<void> {
    const e = this.subs.get(id);
    if (!e) return;
    this.subs.delete(id);
    e.ack?.reject(new KalamError('CLOSED', 'unsubscribed'));
    if (this.authed && e.state.sent) this.send(stringifyJson({ type: 'unsubscribe', subscription_id: id }));
  }

  async close(): Promise<void> {
    this.closedByUser = true;
    this.stopTimers();
    if (this.reconnectTimer !== undefined) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.gen++;
    this.authed = false;
    this.socket?.close();
    this.socket = undefined;
    const err = new KalamError('CLOSED', 'client disconnected');
    for (const w of this.waiters.splice(0)) w.reject(err);
    for (const e of this.subs.values()) e.ack?.reject(err);
    this.subs.clear();
  }

  /** Drops the current connection as if the network failed (it reconnects and resumes). */
  dropConnection(): void {
    const gen = this.gen;
    this.socket?.close();
    this.enqueue(gen, () => this.onDrop(gen, 1006, 'dropped by the client'));
  }

  private send(text: string): void {
    this.socket?.send(text);
  }

  private open(): void {
    if (this.closedByUser) return;
    const gen = ++this.gen;
    this.connecting = true;
    this.openOnce(gen).catch((e: unknown) => {
      if (gen !== this.gen) return;
      const err = e instanceof KalamError ? e : new KalamError('NETWORK_ERROR', String((e as Error)?.message ?? e));
      if (err.status === 401 || err.status === 403) this.tokens.invalidate(this.token);
      this.enqueue(gen, () => this.onDrop(gen, 1006, err.message, err));
    });
  }

  private async openOnce(gen: number): Promise<void> {
    // Messages may arrive before the opener's promise settles: hold them until the socket is stored.
    let opened!: () => void;
    const gate = new Promise<void>((r) => (opened = r));
    this.queue = this.queue.then(() => gate);
    try {
      await this.openSocket(gen);
    } finally {
      opened();
    }
  }

  private async openSocket(gen: number): Promise<void> {
    const token = await this.tokens.accessToken();
    if (gen !== this.gen) return;
    this.token = token;
    const ws = this.baseUrl.replace(/^http/, 'ws') + '/v1/ws' + (this.o.compression ? '' : '?compress=false');
    const header = this.o.wsAuth === 'header';
    const opener = this.o.opener ?? (isNode ? openNodeSocket : openBrowserSocket);
    const sock = await opener(
      ws,
      header ? token : undefined,
      {
        onMessage: (d) => this.enqueue(gen, () => this.onMessage(gen, d)),
        onClose: (code, reason) => this.enqueue(gen, () => this.onDrop(gen, code, reason)),
      },
      this.o.connectTimeoutMs,
    );
    if (gen !== this.gen) {
      sock.close();
      return;
    }
    this.connects++;
    this.socket = sock;
    this.lastRecv = Date.now();
    if (!header) {
      sock.send(stringifyJson({ type: 'authenticate', method: 'jwt', token: token ?? '', protocol: { serialization: 'json', compression: 'gzip' } }));
    }
    this.pingTimer = setInterval(() => this.keepAlive(gen), Math.min(this.o.pingIntervalMs, this.o.idleTimeoutMs / 2));
  }

  private keepAlive(gen: number): void {
    if (gen !== this.gen) return;
    if (Date.now() - this.lastRecv > this.o.idleTimeoutMs) {
      this.socket?.close();
      this.enqueue(gen, () => this.onDrop(gen, 1006, 'idle timeout'));
      return;
    }
    this.send('{"type":"ping"}');
  }

  private stopTimers(): void {
    if (this.pingTimer !== undefined) clearInterval(this.pingTimer);
    this.pingTimer = undefined;
  }

  /** Runs `fn` after everything queued before it (gzip inflation may be asynchronous). */
  private enqueue(gen: number, fn: () => unknown): void {
    this.queue = this.queue
      .then(async () => {
        if (gen === this.gen) await fn();
      })
      .catch((e: unknown) => {
        // A message the client cannot read: treat the connection as broken and resume.
        if (gen !== this.gen) return;
        this.protocolErrors.push(String((e as Error)?.stack ?? e));
        this.socket?.close();
        return this.onDrop(gen, 1002, `protocol error: ${(e as Error)?.message ?? e}`);
      });
  }

  private async onMessage(gen: number, data: string | Uint8Array): Promise<void> {
    if (typeof data !== 'string') this.gzipFrames++;
    const text = typeof data === 'string' ? data : await gunzip(data);
    if (gen !== this.gen) return;
    this.lastRecv = Date.now();
    const msg = parseJson(text) as Record<string, unknown>;
    switch (msg.type) {
      case 'auth_success':
        return this.onAuthenticated();
      case 'auth_error':
        this.tokens.invalidate(this.token);
        this.lastAuthError = new KalamError('AUTH_ERROR', String(msg.message ?? 'authentication failed'), 401);
        return;
      case 'subscription_ack':
      case 'initial_data_batch':
      case 'change':
      case 'error':
        return this.onSubscriptionMessage(msg);
      default:
        return; // pong and anything newer
    }
  }

  private lastAuthError?: KalamError;

  private onAuthenticated(): void {
    this.authed = true;
    this.everConnected = true;
    this.failures = 0;
    this.connecting = false;
    for (const w of this.waiters.splice(0)) w.resolve();
    for (const e of this.subs.values()) {
      if (!e.state.sent) this.send(e.state.subscribeMessage());
    }
    this.o.onConnect?.();
  }

  private onSubscriptionMessage(msg: Record<string, unknown>): void {
    const id = String(msg.subscription_id ?? '');
    const entry = this.subs.get(id);
    if (!entry) return; // unsubscribed meanwhile
    const st = entry.state;
    switch (msg.type) {
      case 'subscription_ack': {
        const ev = st.onAck(msg);
        entry.ack?.resolve();
        entry.ack = undefined;
        if (ev) entry.onEvent(ev);
        return;
      }
      case 'initial_data_batch': {
        const { event, reply } = st.onBatch(msg);
        if (reply) this.send(reply);
        if (event) entry.onEvent(event);
        return;
      }
      case 'change': {
        const ev = st.onChange(msg);
        if (ev) entry.onEvent(ev);
        return;
      }
      case 'error': {
        const code = String(msg.code ?? 'UNKNOWN');
        const message = String(msg.message ?? '');
        this.serverCloses[code] = (this.serverCloses[code] ?? 0) + 1;
        const delay = st.onServerClose(code, this.o.reconnectMinDelayMs, this.o.reconnectMaxDelayMs);
        if (delay !== undefined) {
          const gen = this.gen;
          const resend = () => {
            if (gen === this.gen && this.authed && this.subs.get(id) === entry && !st.sent) this.send(st.subscribeMessage());
          };
          if (delay === 0) resend();
          else setTimeout(resend, delay);
          return;
        }
        this.subs.delete(id);
        const err = new KalamError(code, message);
        const ev: ErrorEvent = { type: 'error', subscription_id: id, code, message };
        if (entry.ack) {
          entry.ack.reject(err);
          entry.ack = undefined;
          return;
        }
        entry.state.opts.onError?.(ev);
        entry.onEvent(ev);
        return;
      }
    }
  }

  private onDrop(gen: number, code: number, reason: string, err?: KalamError): void {
    if (gen !== this.gen) return;
    this.gen++; // late messages of the dropped connection are ignored
    this.stopTimers();
    this.socket = undefined;
    const wasAuthed = this.authed;
    this.authed = false;
    this.connecting = false;
    for (const e of this.subs.values()) e.state.markUnsent();
    if (wasAuthed) this.o.onDisconnect?.({ code, message: reason });
    if (this.closedByUser) return;
    const failure = err ?? this.lastAuthError ?? new KalamError('NETWORK_ERROR', `connection closed (${code}): ${reason}`);
    this.lastAuthError = undefined;
    if (!this.everConnected || !this.o.reconnect || ++this.failures > this.o.maxReconnectAttempts) {
      // Nothing to resume yet (or reconnecting is off / exhausted): fail whoever waits.
      for (const w of this.waiters.splice(0)) w.reject(failure);
      if (this.everConnected) {
        for (const [id, e] of this.subs) {
          const ev: ErrorEvent = { type: 'error', subscription_id: id, code: failure.code, message: failure.message };
          e.ack?.reject(failure);
          e.state.opts.onError?.(ev);
          e.onEvent(ev);
        }
        this.subs.clear();
      }
      return;
    }
    const n = Math.max(0, this.failures - 1);
    const delay = Math.min(this.o.reconnectMinDelayMs * 2 ** Math.min(n, 16), this.o.reconnectMaxDelayMs);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.open();
    }, delay);
  }
}
