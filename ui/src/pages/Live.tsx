// Live: subscribe to a query and watch the row set change in place (rows that are new or changed
// flash briefly); the open subscriptions of system.live with KILL LIVE QUERY.
import { useEffect, useRef, useState } from 'react';
import type { KalamClient, LiveRow, SchemaField } from '@kalamdb/client';
import { Grid } from '../Grid';
import { cellText, objects, sqlString } from '../format';
import { errText, Msg, useAction, useSql } from '../useSql';

const FLASH_MS = 1500;

function rowId(r: LiveRow): string {
  return JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
}

export function LivePage({ client }: { client: KalamClient }) {
  const [sqlText, setSqlText] = useState(sessionStorage.getItem('kalam.live') ?? '');
  const [active, setActive] = useState<string | null>(null);
  const [rows, setRows] = useState<LiveRow[]>([]);
  const [error, setError] = useState('');
  const [changes, setChanges] = useState(0);
  const flash = useRef(new Map<string, number>());
  const seen = useRef(new Set<string>());
  const [, tick] = useState(0);

  useEffect(() => {
    if (!active) return;
    let stop: (() => Promise<void>) | undefined;
    let closed = false;
    seen.current = new Set();
    flash.current = new Map();
    setRows([]);
    setError('');
    setChanges(0);
    let first = true;
    client
      .live(
        active,
        (next) => {
          const now = Date.now();
          const ids = new Set<string>();
          for (const r of next) {
            const id = rowId(r);
            ids.add(id);
            if (!first && !seen.current.has(id)) flash.current.set(id, now + FLASH_MS);
          }
          first = false;
          seen.current = ids;
          setRows(next);
          setChanges((c) => c + 1);
          setTimeout(() => tick((x) => x + 1), FLASH_MS + 50);
        },
        { onError: (e) => setError(`${e.code}: ${e.message}`) },
      )
      .then((s) => {
        if (closed) void s();
        else stop = s;
      })
      .catch((e) => setError(errText(e)));
    return () => {
      closed = true;
      void stop?.();
    };
  }, [client, active]);

  const names: string[] = [];
  for (const r of rows) for (const k of Object.keys(r)) if (!names.includes(k)) names.push(k);
  const schema: SchemaField[] = names.map((name, index) => ({ name, index, data_type: '' }));
  const now = Date.now();

  const live = useSql(client, 'SELECT live_id, user_id, query, status, created_at, changes FROM system.live ORDER BY created_at LIMIT 1000', 2000);
  const action = useAction(client, () => void live.reload());

  return (
    <div className="page">
      <header className="toolbar"><h2>Live</h2></header>
      <form className="inline" onSubmit={(e) => {
        e.preventDefault();
        sessionStorage.setItem('kalam.live', sqlText);
        setActive(sqlText.trim() || null);
      }}>
        <input className="wide" aria-label="Live query" placeholder="SELECT * FROM ns.table WHERE …" value={sqlText} onChange={(e) => setSqlText(e.target.value)} />
        <button type="submit" disabled={!sqlText.trim()}>Subscribe</button>
        {active && <button type="button" className="secondary" onClick={() => setActive(null)}>Stop</button>}
      </form>
      {error && <p className="error" role="alert" data-testid="live-error">{error}</p>}
      {active && (
        <p className="status" data-testid="live-status">
          {rows.length} {rows.length === 1 ? 'row' : 'rows'} · {changes} updates · subscribed to <code>{active}</code>
        </p>
      )}
      {active && (
        <Grid
          testId="live-grid"
          result={{ schema, rows: rows.map((r) => names.map((n) => (r[n] === undefined ? null : r[n]) as never)) }}
          rowClass={(i) => ((flash.current.get(rowId(rows[i]!)) ?? 0) > now ? 'flash' : undefined)}
        />
      )}
      <section className="card" aria-label="Open subscriptions">
        <h3>Open subscriptions (system.live)</h3>
        <Msg msg={action.msg} />
        {live.error && <p className="error">{live.error}</p>}
        <table className="plain" data-testid="live-list">
          <thead><tr><th>Live id</th><th>User</th><th>Query</th><th>Status</th><th>Changes</th><th /></tr></thead>
          <tbody>
            {objects(live.result).map((l) => {
              const id = String(l.live_id);
              return (
                <tr key={id} data-live-id={id}>
                  <td><code>{id}</code></td>
                  <td>{cellText(l.user_id)}</td>
                  <td><code>{cellText(l.query)}</code></td>
                  <td>{cellText(l.status)}</td>
                  <td className="num">{cellText(l.changes)}</td>
                  <td><button className="danger small" aria-label={`Kill ${id}`}
                    onClick={() => action.run(`KILL LIVE QUERY ${sqlString(id)}`, `Kill live query ${id}?`)}>KILL</button></td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </section>
    </div>
  );
}
