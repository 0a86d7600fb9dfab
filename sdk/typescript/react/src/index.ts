// @kalamdb/react: useLiveQuery(sql, options) → { rows, loading, error }. One subscription per
// (client, sql, subscription-relevant options): inline option objects and callbacks do not cause
// a resubscription, and React StrictMode's mount → unmount → mount leaves exactly one active.
import { createContext, createElement, useContext, useEffect, useRef, useState } from 'react';
import type { ReactNode } from 'react';
import { KalamError, stringifyJson } from '@kalamdb/client';
import type { ErrorEvent, KalamClient, LiveOptions, LiveRow } from '@kalamdb/client';

const ClientContext = createContext<KalamClient | null>(null);

/** Makes `client` available to useLiveQuery / useKalamClient below it. */
export function KalamProvider(props: { client: KalamClient; children?: ReactNode }) {
  return createElement(ClientContext.Provider, { value: props.client }, props.children);
}

export function useKalamClient(): KalamClient {
  const c = useContext(ClientContext);
  if (!c) throw new Error('useKalamClient: no <KalamProvider client={…}> above this component');
  return c;
}

export interface UseLiveQueryOptions extends LiveOptions {
  /** The client (default: the one from KalamProvider). */
  client?: KalamClient;
  /** false: do not subscribe (yet). Default true. */
  enabled?: boolean;
}

export interface LiveQueryState<T> {
  rows: T[];
  loading: boolean;
  error: KalamError | Error | null;
}

export function useLiveQuery<T extends LiveRow = LiveRow>(sql: string, options: UseLiveQueryOptions = {}): LiveQueryState<T> {
  const fromContext = useContext(ClientContext);
  const client = options.client ?? fromContext;
  const [state, setState] = useState<LiveQueryState<T>>({ rows: [], loading: true, error: null });
  const latest = useRef(options);
  latest.current = options;
  // What identifies the subscription; callbacks and object identity do not.
  const key = stringifyJson({
    sql,
    enabled: options.enabled !== false,
    keyColumns: options.keyColumns ?? null,
    limit: options.limit ?? null,
    parseJson: options.parseJson ?? false,
    sub: options.subscriptionOptions ?? null,
  });

  useEffect(() => {
    if (!client || latest.current.enabled === false) return undefined;
    let cancelled = false;
    let stop: (() => Promise<void>) | undefined;
    setState((s) => (s.loading && !s.error ? s : { ...s, loading: true, error: null }));
    const { client: _c, enabled: _e, onError: _o, ...liveOptions } = latest.current;
    client
      .live<T>(sql, (rows) => {
        if (!cancelled) setState({ rows, loading: false, error: null });
      }, {
        ...liveOptions,
        onError: (e: ErrorEvent) => {
          if (!cancelled) setState((s) => ({ ...s, loading: false, error: new KalamError(e.code, e.message) }));
          latest.current.onError?.(e);
        },
      })
      .then(
        (s) => {
          if (cancelled) void s();
          else stop = s;
        },
        (err: Error) => {
          if (!cancelled) setState((s) => ({ ...s, loading: false, error: err }));
        },
      );
    return () => {
      cancelled = true;
      if (stop) void stop();
    };
    // `key` stands for sql and the options that shape the subscription.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [client, key]);

  if (!client) return { rows: [], loading: false, error: new Error('useLiveQuery: no client (pass options.client or use <KalamProvider>)') };
  return state;
}
