// The console's session: the login sets the HttpOnly cookies kalamdb_auth / kalamdb_refresh; the
// page keeps only the short-lived access token in memory and renews it through the refresh cookie
// (POST /v1/api/auth/refresh), so a reload stays logged in and no password is ever kept.
import { Auth, createClient, KalamError, type KalamClient } from '@kalamdb/client';

export interface SessionUser {
  id: string;
  role: string;
}

interface TokenAnswer {
  user: SessionUser;
  admin_ui_access: boolean;
  access_token: string;
}

const ORIGIN = location.origin;
// Set while this browser holds a console session (the cookies themselves are invisible to
// scripts), so a fresh visit does not try a refresh that can only fail.
const LOGGED_IN = 'kalam.session';

async function postJson(path: string, body?: unknown): Promise<unknown> {
  const r = await fetch(ORIGIN + path, {
    method: 'POST',
    credentials: 'same-origin',
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  let json: Record<string, unknown> = {};
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    json = { message: text };
  }
  if (!r.ok) {
    throw new KalamError(String(json.error ?? 'HTTP_' + r.status), String(json.message ?? r.statusText), r.status);
  }
  return json;
}

function expiresWithin(token: string, ms: number): boolean {
  try {
    const part = token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/');
    const exp = JSON.parse(atob(part + '==='.slice((part.length + 3) % 4))).exp as number;
    return exp * 1000 - Date.now() <= ms;
  } catch {
    return true;
  }
}

/** A refused login: not an admin role. */
export class NotAdminError extends Error {
  constructor(readonly role: string) {
    super(`The console is for the dba and system roles; '${role}' cannot use it.`);
  }
}

export class Session {
  private token: string;
  readonly client: KalamClient;
  /** Called once when the refresh cookie no longer gives a token (expired, revoked, logged out
   *  elsewhere): the page then shows the login form instead of failing every request. */
  onExpired: () => void = () => undefined;
  private expired = false;

  private constructor(readonly user: SessionUser, token: string) {
    this.token = token;
    const client = createClient({
      url: ORIGIN,
      authProvider: async () => Auth.jwt(await this.freshToken()),
    });
    // A query refused with 401 (the token was revoked: the user was dropped, the server's secret
    // changed) tries one refresh; if that is refused too, the session has expired.
    this.client = new Proxy(client, {
      get: (target, prop, receiver) => {
        const value = Reflect.get(target, prop, receiver);
        if (prop !== 'query' || typeof value !== 'function') return value;
        return async (...args: unknown[]) => {
          try {
            return await value.apply(target, args);
          } catch (e) {
            // A failed renewal reports itself through onExpired; the query's error is what the
            // caller shows.
            if (e instanceof KalamError && e.status === 401) await this.renew().catch(() => undefined);
            throw e;
          }
        };
      },
    });
  }

  private static from(answer: TokenAnswer): Session {
    if (!answer.admin_ui_access) throw new NotAdminError(answer.user.role);
    localStorage.setItem(LOGGED_IN, '1');
    return new Session(answer.user, answer.access_token);
  }

  /** First-run state: true while root has no password. */
  static async needsSetup(): Promise<boolean> {
    const r = await fetch(ORIGIN + '/v1/api/auth/status', { credentials: 'same-origin' });
    if (!r.ok) return false; // setup is refused from other machines: show the login
    return Boolean(((await r.json()) as { needs_setup?: boolean }).needs_setup);
  }

  static async setup(user: string, password: string, rootPassword: string): Promise<void> {
    await postJson('/v1/api/auth/setup', { user, password, root_password: rootPassword });
  }

  static async login(user: string, password: string): Promise<Session> {
    const answer = (await postJson('/v1/api/auth/login', { user, password })) as TokenAnswer;
    try {
      return Session.from(answer);
    } catch (e) {
      await postJson('/v1/api/auth/logout').catch(() => undefined); // drop the cookies it set
      throw e;
    }
  }

  /** The session the refresh cookie still holds, or null (not logged in, or not an admin). */
  static async resume(): Promise<Session | null> {
    if (!localStorage.getItem(LOGGED_IN)) return null;
    try {
      return Session.from((await postJson('/v1/api/auth/refresh')) as TokenAnswer);
    } catch {
      localStorage.removeItem(LOGGED_IN);
      return null;
    }
  }

  async freshToken(): Promise<string> {
    if (!expiresWithin(this.token, 60_000)) return this.token;
    return this.renew();
  }

  /** A new access token from the refresh cookie; on 401, the session has expired. */
  private async renew(): Promise<string> {
    let answer: TokenAnswer;
    try {
      answer = (await postJson('/v1/api/auth/refresh')) as TokenAnswer;
    } catch (e) {
      // 401: the refresh cookie is gone or expired. Anything else (the server restarting) is
      // left to the caller to show; the next request tries again.
      if (e instanceof KalamError && e.status === 401 && !this.expired) {
        this.expired = true;
        localStorage.removeItem(LOGGED_IN);
        this.onExpired();
      }
      throw e;
    }
    this.token = answer.access_token;
    return this.token;
  }

  async logout(): Promise<void> {
    localStorage.removeItem(LOGGED_IN);
    await this.client.disconnect().catch(() => undefined);
    await postJson('/v1/api/auth/logout');
  }
}
