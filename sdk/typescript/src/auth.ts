// Credentials and the token pair: Basic credentials are only ever sent to /v1/api/auth/login;
// every other request carries the access JWT, renewed before it expires and once after a 401.
import { KalamError } from './errors.js';

export type AuthCredentials =
  | { type: 'basic'; username: string; password: string }
  | { type: 'jwt'; token: string }
  | { type: 'none' };

export const Auth = {
  /** User and password: exchanged for tokens through POST /v1/api/auth/login. */
  basic(username: string, password: string): AuthCredentials {
    return { type: 'basic', username, password };
  },
  /** A ready access token (it cannot be renewed by the client; a provider function can). */
  jwt(token: string): AuthCredentials {
    return { type: 'jwt', token };
  },
  /** No credentials (a server with `auth.localhost_bypass`). */
  none(): AuthCredentials {
    return { type: 'none' };
  },
};

/** Credentials, or a function returning them (called again whenever a new token is needed). */
export type AuthProvider = AuthCredentials | (() => AuthCredentials | Promise<AuthCredentials>);

export interface LoginResponse {
  user: { id: string; role: string; email: string | null; created_at?: string; updated_at?: string };
  admin_ui_access: boolean;
  expires_at: string;
  access_token: string;
  refresh_token: string;
  refresh_expires_at: string;
}

/** Seconds since the epoch at which a JWT expires, from its `exp` claim (undefined if absent). */
export function jwtExpiry(token: string): number | undefined {
  const part = token.split('.')[1];
  if (!part) return undefined;
  try {
    const b64 = part.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((part.length + 3) % 4);
    const claims = JSON.parse(atob(b64)) as { exp?: unknown };
    return typeof claims.exp === 'number' ? claims.exp : undefined;
  } catch {
    return undefined;
  }
}

export type PostJson = (path: string, body: unknown, bearer?: string) => Promise<unknown>;

/** Holds the token pair; one renewal at a time, concurrent callers share it. */
export class TokenManager {
  private access?: string;
  private refresh?: string;
  private renewing?: Promise<string | undefined>;
  /** Counts renewals (tests and diagnostics). */
  renewals = 0;
  /** The last login or refresh answer. */
  lastLogin?: LoginResponse;

  constructor(
    private readonly provider: AuthProvider,
    private readonly post: PostJson,
    private readonly refreshMarginMs: number,
  ) {}

  /** A valid access token (renewed if it expires within the margin), or undefined for Auth.none. */
  async accessToken(): Promise<string | undefined> {
    if (this.access && !this.expiresSoon(this.access)) return this.access;
    return this.renew();
  }

  /** Forget the access token after the server refused it; the next call renews. */
  invalidate(token: string | undefined): void {
    if (token !== undefined && this.access === token) this.access = undefined;
  }

  /** Replace the pair (after an explicit login). */
  setTokens(access: string, refresh?: string): void {
    this.access = access;
    this.refresh = refresh;
  }

  get refreshToken(): string | undefined {
    return this.refresh;
  }

  private expiresSoon(token: string): boolean {
    const exp = jwtExpiry(token);
    return exp !== undefined && exp * 1000 - Date.now() <= this.refreshMarginMs;
  }

  renew(): Promise<string | undefined> {
    this.renewing ??= this.doRenew().finally(() => {
      this.renewing = undefined;
    });
    return this.renewing;
  }

  private async doRenew(): Promise<string | undefined> {
    this.renewals++;
    if (this.refresh && !this.expiresSoon(this.refresh)) {
      try {
        const r = (await this.post('/v1/api/auth/refresh', undefined, this.refresh)) as LoginResponse;
        this.lastLogin = r;
        this.setTokens(r.access_token, r.refresh_token);
        return this.access;
      } catch (e) {
        if (!(e instanceof KalamError) || (e.status !== 401 && e.status !== 403)) throw e;
        this.refresh = undefined; // refused: fall back to the credentials
      }
    }
    const creds = typeof this.provider === 'function' ? await this.provider() : this.provider;
    switch (creds.type) {
      case 'none':
        this.access = undefined;
        return undefined;
      case 'jwt':
        this.setTokens(creds.token);
        return creds.token;
      case 'basic': {
        const r = (await this.post('/v1/api/auth/login', { user: creds.username, password: creds.password })) as LoginResponse;
        this.lastLogin = r;
        this.setTokens(r.access_token, r.refresh_token);
        return this.access;
      }
    }
  }
}
