// Catalog: namespaces → tables (type, storage, flush policy, hot/cold rows from SHOW STATS) →
// columns and schema history; create and drop namespaces and tables (with confirmation).
import { useCallback, useEffect, useState } from 'react';
import type { KalamClient, QueryResult } from '@kalamdb/client';
import { Grid } from '../Grid';
import { cellText, ident, objects } from '../format';
import { errText, Msg, useAction, useSql } from '../useSql';

function flushPolicy(options: unknown): string {
  try {
    const o = JSON.parse(String(options)) as { flush_policy?: string | null };
    return o.flush_policy ?? 'manual';
  } catch {
    return '';
  }
}

interface Stats { hot: string; cold: string; segments: string }

export function CatalogPage({ client }: { client: KalamClient }) {
  const [ns, setNs] = useState<string | null>(null);
  const [table, setTable] = useState<string | null>(null);
  const nsList = useSql(client, 'SELECT namespace_id, table_count FROM system.namespaces ORDER BY namespace_id LIMIT 1000');
  const tables = useSql(
    client,
    ns ? `SELECT table_name, table_type, storage_id, version, options FROM system.tables WHERE namespace_id = '${ns}' ORDER BY table_name LIMIT 1000` : null,
  );
  const [stats, setStats] = useState<Record<string, Stats>>({});
  const reloadAll = useCallback(() => {
    void nsList.reload();
    void tables.reload();
  }, [nsList.reload, tables.reload]);
  const action = useAction(client, reloadAll);

  // Row counts per table (SHOW STATS); system tables have none.
  useEffect(() => {
    if (!ns || !tables.result || ns === 'system' || ns === 'information_schema') return setStats({});
    let alive = true;
    (async () => {
      const out: Record<string, Stats> = {};
      for (const t of objects(tables.result)) {
        try {
          const r = await client.queryOne(`SHOW STATS FOR TABLE ${ns}.${String(t.table_name)}`);
          if (r) out[String(t.table_name)] = { hot: cellText(r.hot_rows), cold: cellText(r.flushed_rows), segments: cellText(r.flushed_segments) };
        } catch {
          // a table dropped meanwhile: no figures
        }
      }
      if (alive) setStats(out);
    })();
    return () => {
      alive = false;
    };
  }, [client, ns, tables.result]);

  const [newNs, setNewNs] = useState('');
  const [newTable, setNewTable] = useState('');
  const [newType, setNewType] = useState('SHARED');
  const [newCols, setNewCols] = useState('id BIGINT PRIMARY KEY AUTO_INCREMENT, title TEXT NOT NULL');
  const [newFlush, setNewFlush] = useState('');

  return (
    <div className="page">
      <header className="toolbar"><h2>Catalog</h2><button className="secondary" onClick={reloadAll}>Refresh</button></header>
      <Msg msg={action.msg} />
      {nsList.error && <p className="error" role="alert">{nsList.error}</p>}
      <div className="columns3">
        <section className="card" aria-label="Namespaces">
          <h3>Namespaces</h3>
          <ul className="list" data-testid="namespaces">
            {objects(nsList.result).map((n) => {
              const id = String(n.namespace_id);
              return (
                <li key={id} className={id === ns ? 'active' : ''}>
                  <button className="link" onClick={() => { setNs(id); setTable(null); }}>{id}</button>
                  <span className="muted"> {cellText(n.table_count)}</span>
                  {id !== 'system' && id !== 'information_schema' && id !== 'default' && (
                    <button className="danger small" aria-label={`Drop namespace ${id}`}
                      onClick={() => action.run(`DROP NAMESPACE ${id}`, `Drop namespace ${id}? It must be empty.`)}>drop</button>
                  )}
                </li>
              );
            })}
          </ul>
          <form className="inline" onSubmit={(e) => {
            e.preventDefault();
            try {
              void action.run(`CREATE NAMESPACE ${ident(newNs)}`).then(() => setNewNs(''));
            } catch (err) { action.setMsg({ ok: false, text: errText(err) }); }
          }}>
            <input aria-label="New namespace" placeholder="new namespace" value={newNs} onChange={(e) => setNewNs(e.target.value)} />
            <button type="submit" disabled={!newNs}>Create</button>
          </form>
        </section>

        <section className="card" aria-label="Tables">
          <h3>Tables {ns && <span className="muted">in {ns}</span>}</h3>
          {!ns && <p className="muted">Choose a namespace.</p>}
          {tables.error && <p className="error">{tables.error}</p>}
          {ns && (
            <table className="plain" data-testid="tables">
              <thead><tr><th>Table</th><th>Type</th><th>Storage</th><th>Flush</th><th>Hot rows</th><th>Cold rows</th><th /></tr></thead>
              <tbody>
                {objects(tables.result).map((t) => {
                  const name = String(t.table_name);
                  const s = stats[name];
                  return (
                    <tr key={name} className={name === table ? 'active' : ''}>
                      <td><button className="link" onClick={() => setTable(name)}>{name}</button></td>
                      <td>{cellText(t.table_type)}</td>
                      <td>{cellText(t.storage_id)}</td>
                      <td>{flushPolicy(t.options)}</td>
                      <td className="num">{s?.hot ?? ''}</td>
                      <td className="num">{s ? `${s.cold} (${s.segments} seg.)` : ''}</td>
                      <td>{ns !== 'system' && ns !== 'information_schema' && (
                        <button className="danger small" aria-label={`Drop table ${ns}.${name}`}
                          onClick={() => action.run(`DROP TABLE ${ns}.${name}`, `Drop table ${ns}.${name} and all its rows?`).then(() => setTable(null))}>drop</button>
                      )}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          )}
          {ns && ns !== 'system' && ns !== 'information_schema' && (
            <form className="stack" aria-label="Create table" onSubmit={(e) => {
              e.preventDefault();
              try {
                const withs = [`TYPE = '${newType}'`];
                if (newFlush) withs.push(`FLUSH_POLICY = '${newFlush.replace(/'/g, '')}'`);
                void action.run(`CREATE TABLE ${ns}.${ident(newTable)} (${newCols}) WITH (${withs.join(', ')})`).then((r) => { if (r) setNewTable(''); });
              } catch (err) { action.setMsg({ ok: false, text: errText(err) }); }
            }}>
              <h4>Create table in {ns}</h4>
              <div className="inline">
                <input aria-label="Table name" placeholder="table name" value={newTable} onChange={(e) => setNewTable(e.target.value)} />
                <select aria-label="Table type" value={newType} onChange={(e) => setNewType(e.target.value)}>
                  <option>SHARED</option><option>USER</option>
                </select>
                <input aria-label="Flush policy" placeholder="flush policy (rows:1000)" value={newFlush} onChange={(e) => setNewFlush(e.target.value)} />
              </div>
              <input aria-label="Column definitions" value={newCols} onChange={(e) => setNewCols(e.target.value)} />
              <button type="submit" disabled={!newTable || !newCols}>Create table</button>
            </form>
          )}
        </section>

        <section className="card" aria-label="Table detail">
          <h3>Columns {table && <span className="muted">of {ns}.{table}</span>}</h3>
          {!table && <p className="muted">Choose a table.</p>}
          {ns && table && <TableDetail client={client} ns={ns} table={table} />}
        </section>
      </div>
    </div>
  );
}

function TableDetail({ client, ns, table }: { client: KalamClient; ns: string; table: string }) {
  const cols = useSql(client, `DESCRIBE TABLE ${ns}.${table}`);
  const [hist, setHist] = useState<QueryResult | null>(null);
  return (
    <div data-testid="columns">
      {cols.error && <p className="error">{cols.error}</p>}
      <table className="plain">
        <thead><tr><th>Column</th><th>Type</th><th>Null</th><th>Key</th><th>Default</th></tr></thead>
        <tbody>
          {objects(cols.result).map((c) => (
            <tr key={String(c.column_name)}>
              <td>{String(c.column_name)}</td>
              <td>{cellText(c.data_type)}</td>
              <td>{c.is_nullable ? 'yes' : 'no'}</td>
              <td>{c.is_primary_key ? 'PK' : ''}</td>
              <td>{c.column_default === null ? '' : cellText(c.column_default)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <button className="secondary" onClick={async () => {
        try { setHist((await client.query(`DESCRIBE TABLE ${ns}.${table} HISTORY`)).results[0]!); } catch { setHist(null); }
      }}>Schema history</button>
      {hist && <Grid result={hist} testId="schema-history" />}
    </div>
  );
}
