// KalamClient: SQL over HTTP (POST /v1/api/sql) with typed results, and the live-query API, whose
// WebSocket side lives in connection.ts.
import { Auth, AuthProvider, LoginResponse, TokenManager } from './auth.js';
import { KalamError } from './errors.js';
import { parseJson, stringifyJson } from './json.js';
import { LiveConnection, LiveConnectionOptions } from './connection.js';
import { LiveOptions, LiveRow, materialize } from './live.js';
import { SeqId } from './seq.js';
import { RawEvent, SubscribeOptions, SubscriptionInfo } from './subscription.js';
import { DecodeOptions, SchemaField, Value, decodeValue, encodeParam } from './values.js';
import { FileInput, FileRef, parseFileRef, storedFileName, uploadForm } from './files.js';

export interface ClientOptions extends Partial<LiveConnectionOptions> {
  /** Server base URL, e.g. "http://127.0.0.1:8080". */
  url: string;
  /** Credentials: Auth.basic(…), Auth.jwt(…), Auth.none(), or a function returning one. */
  authProvider?: AuthProvider;
  /** Namespace for unqualified table names (namespace_id). */
  namespace?: string;
  /** Renew the access token when it expires within this many ms (default 60 000). */
  refreshMarginMs?: number;
  /** HTTP request timeout in ms (default 30 000). */
  requestTimeoutMs?: number;
  /** fetch implementation (default globalThis.fetch). */
  fetch?: typeof fetch;
}

export interface QueryResult {
  schema: SchemaField[];
  /** Rows as arrays in schema order, values typed (BIGINT → bigint, TIMESTAMP → KalamTimestamp, …). */
  rows: Value[][];
  row_count: number;
  message?: string;
  as_user?: string;
  truncated?: boolean;
}

export interface QueryResponse {
  status: 'success';
  results: QueryResult[];
  /** Server time in ms. */
  took: number;
}

export interface QueryOptions extends DecodeOptions {
  namespace?: string;
}

type Params = readonly unknown[];

/** Where a file lives: its table (a FileRef does not name it). */
export interface FileLocation {
  /** Default: the client's namespace. */
  namespace?: string;
  table: string;
  /** USER tables: another user's scope (needs the EXECUTE AS rights of the caller's role). */
  userId?: string;
}

export interface DownloadOptions {
  /** An ETag from an earlier download: a 304 answer gives `notModified: true`. */
  ifNoneMatch?: string;
  /** One HTTP range, e.g. "bytes=0-99" (206 answer). */
  range?: string;
}

export interface FileDownload {
  /** 200, 206 (range) or 304 (not modified). */
  status: number;
  notModified: boolean;
  /** The bytes (empty on 304). `new Blob([data], { type: contentType })` for an object URL. */
  data: Uint8Array;
  /** `"<id>"`: a file never changes under its id. */
  etag: string;
  contentType: string;
}

function errorFromBody(status: number, body: unknown): KalamError {
  const b = (body ?? {}) as { error?: unknown; message?: unknown };
  if (b.error && typeof b.error === 'object') {
    const e = b.error as { code?: string; message?: string; details?: string };
    return new KalamError(e.code ?? 'UNKNOWN', e.message ?? `HTTP ${status}`, status, e.details);
  }
  const c = (body as { code?: unknown } | null)?.code;
  if (typeof c === 'string' && typeof b.error === 'string') return new KalamError(c, b.error, status); // {"error": msg, "code": …}
  if (typeof b.error === 'string' && b.message === undefined && status === 404) return new KalamError('NOT_FOUND', b.error, status);
  const code = typeof b.error === 'string' ? b.error : `HTTP_${status}`;
  const message = typeof b.message === 'string' ? b.message : `HTTP ${status}`;
  return new KalamError(code, message, status);
}

export class KalamClient {
  readonly url: string;
  private readonly opts: ClientOptions;
  private readonly fetchImpl: typeof fetch;
  /** @internal */
  readonly tokens: TokenManager;
  private live_?: LiveConnection;

  constructor(opts: ClientOptions) {
    if (!/^https?:\/\//.test(opts.url)) throw new KalamError('INVALID_ARGUMENT', `url must start with http:// or https://: ${opts.url}`);
    this.url = opts.url.replace(/\/+$/, '');
    this.opts = opts;
    this.fetchImpl = opts.fetch ?? globalThis.fetch.bind(globalThis);
    this.tokens = new TokenManager(opts.authProvider ?? Auth.none(), (p, b, t) => this.postJson(p, b, t), opts.refreshMarginMs ?? 60_000);
  }

  // ---- HTTP -----------------------------------------------------------------------------------

  private postJson(path: string, body: unknown, bearer?: string): Promise<unknown> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    return this.post(path, body === undefined ? undefined : stringifyJson(body), headers, bearer);
  }

  /** fetch with the bearer token and the request timeout; transport failures become KalamErrors. */
  private async send(path: string, init: RequestInit & { headers: Record<string, string> }, bearer?: string): Promise<Response> {
    const headers = { ...init.headers }; // a plain object, as a custom `fetch` may expect
    if (bearer) headers['Authorization'] = `Bearer ${bearer}`;
    try {
      return await this.fetchImpl(this.url + path, {
        ...init,
        headers,
        credentials: 'omit',
        signal: AbortSignal.timeout(this.opts.requestTimeoutMs ?? 30_000),
      });
    } catch (e) {
      const name = (e as Error)?.name;
      throw new KalamError(name === 'TimeoutError' ? 'TIMEOUT' : 'NETWORK_ERROR', `${path}: ${(e as Error)?.message ?? e}`);
    }
  }

  private async post(path: string, body: string | FormData | undefined, headers: Record<string, string>, bearer?: string): Promise<unknown> {
    const res = await this.send(path, { method: 'POST', headers, body }, bearer);
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? {} : parseJson(text);
    } catch {
      throw new KalamError('PROTOCOL_ERROR', `HTTP ${res.status} from ${path}: ${text.slice(0, 200)}`, res.status);
    }
    if (!res.ok || (parsed as { status?: string }).status === 'error') throw errorFromBody(res.status, parsed);
    return parsed;
  }

  /** Calls `fn` with the access token; after a 401 renews the token once and calls it again. */
  private async withToken<T>(fn: (token: string | undefined) => Promise<T>): Promise<T> {
    const token = await this.tokens.accessToken();
    try {
      return await fn(token);
    } catch (e) {
      if (!(e instanceof KalamError) || e.status !== 401 || token === undefined) throw e;
      this.tokens.invalidate(token); // refused: renew once and send again
      return fn(await this.tokens.accessToken());
    }
  }

  /** Logs in with the Basic credentials now (otherwise done on first use); returns the user. */
  async login(): Promise<LoginResponse['user'] | undefined> {
    await this.tokens.renew();
    return this.tokens.lastLogin?.user;
  }

  /** The current access token (renewed when it expires soon), e.g. for fetching a `fileUrl`
   * yourself; undefined for Auth.none(). */
  accessToken(): Promise<string | undefined> {
    return this.tokens.accessToken();
  }

  /** Exchanges the refresh token for a new pair now. */
  async refreshToken(): Promise<void> {
    const rt = this.tokens.refreshToken;
    if (!rt) throw new KalamError('INVALID_ARGUMENT', 'no refresh token (log in with Auth.basic first)');
    const r = (await this.postJson('/v1/api/auth/refresh', undefined, rt)) as LoginResponse;
    this.tokens.lastLogin = r;
    this.tokens.setTokens(r.access_token, r.refresh_token);
  }

  /** GET /v1/api/auth/status. */
  async authStatus(): Promise<{ needs_setup: boolean; message: string }> {
    const res = await this.fetchImpl(this.url + '/v1/api/auth/status', { credentials: 'omit' });
    const body = parseJson(await res.text());
    if (!res.ok) throw errorFromBody(res.status, body);
    return body as { needs_setup: boolean; message: string };
  }

  /** Runs one or more `;`-separated statements; `params` fill `$1…$n` (single statement only). */
  async query(sql: string, params?: Params, options: QueryOptions = {}): Promise<QueryResponse> {
    const body: Record<string, unknown> = { sql };
    if (params && params.length > 0) body.params = params.map(encodeParam);
    const ns = options.namespace ?? this.opts.namespace;
    if (ns) body.namespace_id = ns;
    const raw = await this.withToken((token) => this.postJson('/v1/api/sql', body, token));
    return decodeResponse(raw, options);
  }

  // ---- files ----------------------------------------------------------------------------------

  /** Runs one INSERT/UPDATE/DELETE with file uploads (multipart POST /v1/api/sql): each
   * `FILE("name")` in `sql` becomes the FileRef of `files[name]`. Same result and errors as
   * `query`, plus MISSING_FILE, EXTRA_FILE, INVALID_MIME_TYPE, FILE_TOO_LARGE, TOO_MANY_FILES and
   * BODY_TOO_LARGE (413). */
  async queryWithFiles(sql: string, files: Record<string, FileInput>, params?: Params, options: QueryOptions = {}): Promise<QueryResponse> {
    const form = uploadForm(sql, files, params?.map(encodeParam), options.namespace ?? this.opts.namespace);
    const raw = await this.withToken((token) => this.post('/v1/api/sql', form, {}, token));
    return decodeResponse(raw, options);
  }

  /** The absolute download URL of a file (GET /v1/files/{namespace}/{table}/{sub}/{stored_name}).
   * It needs the Authorization header: fetch it with the token, or use `downloadFile`. */
  fileUrl(file: FileRef | string, location: FileLocation): string {
    const ref = typeof file === 'string' ? parseFileRef(file) : file;
    if (!ref || !parseFileRef(ref)) throw new KalamError('INVALID_ARGUMENT', 'not a FileRef');
    const ns = location.namespace ?? this.opts.namespace;
    if (!ns) throw new KalamError('INVALID_ARGUMENT', 'fileUrl needs a namespace (location.namespace or the client namespace)');
    const seg = encodeURIComponent;
    let u = `${this.url}/v1/files/${seg(ns)}/${seg(location.table)}/${ref.sub}/${storedFileName(ref)}`;
    if (location.userId !== undefined) u += `?user_id=${seg(location.userId)}`;
    return u;
  }

  /** Downloads a file with the access token (renewed once after a 401). `ifNoneMatch` (an ETag
   * from an earlier download) gives `notModified: true` and no data on 304; `range`
   * ("bytes=0-99") gives status 206 with that slice. Errors: FILE_NOT_FOUND (404),
   * PERMISSION_DENIED (403), INVALID_INPUT (400), RANGE_NOT_SATISFIABLE (416), … */
  async downloadFile(file: FileRef | string, location: FileLocation & DownloadOptions): Promise<FileDownload> {
    const path = this.fileUrl(file, location).slice(this.url.length);
    const headers: Record<string, string> = {};
    if (location.ifNoneMatch) headers['If-None-Match'] = location.ifNoneMatch;
    if (location.range) headers['Range'] = location.range;
    return this.withToken(async (token) => {
      const res = await this.send(path, { method: 'GET', headers }, token);
      if (res.status === 304) {
        return { status: 304, notModified: true, data: new Uint8Array(0), etag: res.headers.get('ETag') ?? location.ifNoneMatch ?? '', contentType: res.headers.get('Content-Type') ?? '' };
      }
      if (!res.ok) {
        const text = await res.text();
        let body: unknown;
        try {
          body = parseJson(text);
        } catch {
          throw new KalamError('PROTOCOL_ERROR', `HTTP ${res.status} from ${path}: ${text.slice(0, 200)}`, res.status);
        }
        throw errorFromBody(res.status, body);
      }
      return {
        status: res.status,
        notModified: false,
        data: new Uint8Array(await res.arrayBuffer()),
        etag: res.headers.get('ETag') ?? '',
        contentType: res.headers.get('Content-Type') ?? '',
      };
    });
  }

  /** Runs several statements in one request (each autocommits unless inside BEGIN … COMMIT). */
  batch(statements: readonly string[], options?: QueryOptions): Promise<QueryResponse> {
    return this.query(statements.map((s) => s.trim().replace(/;+$/, '')).join(';\n'), undefined, options);
  }

  /** Runs `sql` as another user: EXECUTE AS USER 'user' (sql). Needs the dba or system role. */
  executeAsUser(sql: string, user: string, params?: Params, options?: QueryOptions): Promise<QueryResponse> {
    const inner = sql.trim().replace(/;+$/, '');
    return this.query(`EXECUTE AS USER '${user.replace(/'/g, "''")}' (${inner})`, params, options);
  }

  /** Rows of the first result as objects keyed by column name. */
  async queryAll(sql: string, params?: Params, options?: QueryOptions): Promise<Record<string, Value>[]> {
    const r = await this.query(sql, params, options);
    const first = r.results[0];
    if (!first) return [];
    return first.rows.map((row) => Object.fromEntries(first.schema.map((f, i) => [f.name, row[i]])));
  }

  /** The first row of the first result as an object, or null. */
  async queryOne(sql: string, params?: Params, options?: QueryOptions): Promise<Record<string, Value> | null> {
    return (await this.queryAll(sql, params, options))[0] ?? null;
  }

  // ---- live -----------------------------------------------------------------------------------

  /** @internal the shared WebSocket (created on first use). */
  get connection(): LiveConnection {
    this.live_ ??= new LiveConnection(this.url, this.tokens, this.opts);
    return this.live_;
  }

  /** Opens the WebSocket now (otherwise done by the first subscription). */
  async connect(): Promise<void> {
    await this.connection.connect();
  }

  /** Raw events of `SELECT * FROM <tableName>`. Resolves to an unsubscribe function. */
  subscribe(tableName: string, onEvent: (e: RawEvent) => void, options?: SubscribeOptions): Promise<() => Promise<void>> {
    return this.subscribeWithSql(`SELECT * FROM ${tableName}`, onEvent, options);
  }

  /** Raw events (subscription_ack, initial_data_batch, change, error) of a live SQL query,
   * deduplicated and resumed across reconnects. Resolves (after the ack) to an unsubscribe function. */
  async subscribeWithSql(sql: string, onEvent: (e: RawEvent) => void, options: SubscribeOptions = {}): Promise<() => Promise<void>> {
    const id = await this.connection.subscribe(sql, onEvent, options);
    return () => this.connection.unsubscribe(id);
  }

  /** Materialized rows of a live SQL query: `onRows` gets the whole current row set after every
   * change. Resolves (after the ack) to a stop function. */
  live<T extends LiveRow = LiveRow>(sql: string, onRows: (rows: T[]) => void, options: LiveOptions = {}): Promise<() => Promise<void>> {
    return materialize(this, sql, onRows as (rows: LiveRow[]) => void, options);
  }

  /** Live rows of `SELECT * FROM <tableName>`. */
  liveTableRows<T extends LiveRow = LiveRow>(tableName: string, onRows: (rows: T[]) => void, options?: LiveOptions): Promise<() => Promise<void>> {
    return this.live(`SELECT * FROM ${tableName}`, onRows, options);
  }

  /** The active subscriptions with their resume positions. */
  getSubscriptions(): SubscriptionInfo[] {
    return this.live_ ? this.live_.subscriptions() : [];
  }

  getSubscriptionCount(): number {
    return this.getSubscriptions().length;
  }

  isConnected(): boolean {
    return this.live_?.isConnected() ?? false;
  }

  /** Closes the WebSocket and ends every subscription. */
  async disconnect(): Promise<void> {
    const c = this.live_;
    this.live_ = undefined;
    if (c) await c.close();
  }
}

function decodeResponse(raw: unknown, options: DecodeOptions): QueryResponse {
  const body = raw as { results?: unknown[]; took?: number };
  const results = (body.results ?? []).map((r0) => {
    const r = r0 as { schema?: SchemaField[]; rows?: unknown[][]; row_count?: number; message?: string; as_user?: string; truncated?: boolean };
    const schema = r.schema ?? [];
    const out: QueryResult = {
      schema,
      rows: (r.rows ?? []).map((row) => row.map((v, i) => decodeValue(schema[i]?.data_type ?? 'Text', v, options))),
      row_count: r.row_count ?? 0,
    };
    if (r.message !== undefined) out.message = r.message;
    if (r.as_user !== undefined) out.as_user = r.as_user;
    if (r.truncated) out.truncated = true;
    return out;
  });
  return { status: 'success', results, took: body.took ?? 0 };
}

/** Creates a client. Nothing is sent until the first call. */
export function createClient(options: ClientOptions): KalamClient {
  return new KalamClient(options);
}

export { SeqId };
