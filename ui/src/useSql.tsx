// Small hooks over the SDK: run SQL for a page, with loading/error state and auto-refresh.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { KalamClient, QueryResult } from '@kalamdb/client';

export function errText(e: unknown): string {
  const k = e as { code?: string; message?: string };
  return k.code ? `${k.code}: ${k.message}` : String(k.message ?? e);
}

/** Runs `sql` now, again on reload(), and every `everyMs` when given. */
export function useSql(client: KalamClient, sql: string | null, everyMs?: number) {
  const [result, setResult] = useState<QueryResult | undefined>();
  const [error, setError] = useState('');
  const alive = useRef(true);
  const reload = useCallback(async () => {
    if (!sql) return;
    try {
      const r = await client.query(sql);
      if (!alive.current) return;
      setResult(r.results[r.results.length - 1]);
      setError('');
    } catch (e) {
      if (alive.current) setError(errText(e));
    }
  }, [client, sql]);
  useEffect(() => {
    alive.current = true;
    void reload();
    const t = everyMs ? setInterval(() => void reload(), everyMs) : undefined;
    return () => {
      alive.current = false;
      if (t) clearInterval(t);
    };
  }, [reload, everyMs]);
  return { result, error, reload };
}

/** A statement run from a button: its outcome message or error. */
export function useAction(client: KalamClient, after?: () => void) {
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);
  const run = useCallback(
    async (sql: string, confirmText?: string) => {
      if (confirmText && !confirm(confirmText)) return;
      try {
        const r = await client.query(sql);
        const last = r.results[r.results.length - 1];
        setMsg({ ok: true, text: last?.message ?? `${last?.row_count ?? 0} rows` });
        after?.();
        return r;
      } catch (e) {
        setMsg({ ok: false, text: errText(e) });
      }
    },
    [client, after],
  );
  return { msg, setMsg, run };
}

export function Msg({ msg }: { msg: { ok: boolean; text: string } | null }) {
  if (!msg) return null;
  return (
    <p className={msg.ok ? 'ok' : 'error'} role={msg.ok ? 'status' : 'alert'} data-testid="action-msg">
      {msg.text}
    </p>
  );
}
