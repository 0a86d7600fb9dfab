// Storages and jobs: storages (create, STORAGE CHECK), flush a table, jobs with status and
// duration and KILL JOB; both lists refresh every 2 s.
import { useState } from 'react';
import type { KalamClient, QueryResult } from '@kalamdb/client';
import { Grid } from '../Grid';
import { cellText, ident, objects, sqlString } from '../format';
import { errText, Msg, useAction, useSql } from '../useSql';

function micros(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  const m = (v as { micros?: bigint }).micros;
  return typeof m === 'bigint' ? Number(m) / 1000 : null;
}

function duration(j: Record<string, unknown>): string {
  const start = micros(j.started_at);
  if (start === null) return '';
  const end = micros(j.finished_at) ?? Date.now();
  const d = end - start;
  return d < 1000 ? `${Math.max(0, Math.round(d))} ms` : `${(d / 1000).toFixed(1)} s`;
}

export function StoragePage({ client }: { client: KalamClient }) {
  const storages = useSql(client, 'SELECT storage_id, storage_name, storage_type, base_directory, description FROM system.storages ORDER BY storage_id LIMIT 1000', 2000);
  const jobs = useSql(client, 'SELECT job_id, job_type, status, parameters, message, created_at, started_at, finished_at FROM system.jobs ORDER BY created_at DESC LIMIT 100', 2000);
  const tables = useSql(client, "SELECT namespace_id, table_name FROM system.tables WHERE table_type <> 'STREAM' ORDER BY namespace_id, table_name LIMIT 1000");
  const action = useAction(client, () => { void storages.reload(); void jobs.reload(); });
  const [check, setCheck] = useState<QueryResult | null>(null);
  const [id, setId] = useState('');
  const [dir, setDir] = useState('');
  const [flushTable, setFlushTable] = useState('');
  const tableNames = objects(tables.result)
    .filter((t) => t.namespace_id !== 'system' && t.namespace_id !== 'information_schema')
    .map((t) => `${String(t.namespace_id)}.${String(t.table_name)}`);

  return (
    <div className="page">
      <header className="toolbar"><h2>Storages &amp; jobs</h2><span className="muted">refreshes every 2 s</span></header>
      <Msg msg={action.msg} />
      <section className="card" aria-label="Storages">
        <h3>Storages</h3>
        {storages.error && <p className="error">{storages.error}</p>}
        <table className="plain" data-testid="storages">
          <thead><tr><th>Id</th><th>Name</th><th>Type</th><th>Base directory</th><th /></tr></thead>
          <tbody>
            {objects(storages.result).map((s) => {
              const sid = String(s.storage_id);
              return (
                <tr key={sid}>
                  <td>{sid}</td><td>{cellText(s.storage_name)}</td><td>{cellText(s.storage_type)}</td><td><code>{cellText(s.base_directory)}</code></td>
                  <td>
                    <button className="secondary small" onClick={async () => {
                      try { setCheck((await client.query(`STORAGE CHECK ${sid}`)).results[0]!); } catch (e) { action.setMsg({ ok: false, text: errText(e) }); }
                    }}>check</button>
                    {sid !== 'local' && <button className="danger small" onClick={() => action.run(`DROP STORAGE ${sid}`, `Drop storage ${sid}?`)}>drop</button>}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
        {check && <Grid result={check} testId="storage-check" />}
        <form className="inline" aria-label="Create storage" onSubmit={(e) => {
          e.preventDefault();
          try {
            void action.run(`CREATE STORAGE ${ident(id)} TYPE 'filesystem' BASE_DIRECTORY ${sqlString(dir)}`).then((r) => { if (r) { setId(''); setDir(''); } });
          } catch (err) { action.setMsg({ ok: false, text: errText(err) }); }
        }}>
          <input aria-label="Storage id" placeholder="storage id" value={id} onChange={(e) => setId(e.target.value)} />
          <input className="wide" aria-label="Base directory" placeholder="/path/on/server" value={dir} onChange={(e) => setDir(e.target.value)} />
          <button type="submit" disabled={!id || !dir}>Create filesystem storage</button>
        </form>
      </section>
      <section className="card" aria-label="Flush">
        <h3>Flush a table</h3>
        <form className="inline" onSubmit={(e) => { e.preventDefault(); if (flushTable) void action.run(`STORAGE FLUSH TABLE ${flushTable}`); }}>
          <select aria-label="Table to flush" value={flushTable} onChange={(e) => setFlushTable(e.target.value)}>
            <option value="">choose a table…</option>
            {tableNames.map((t) => <option key={t}>{t}</option>)}
          </select>
          <button type="submit" disabled={!flushTable}>Flush</button>
        </form>
      </section>
      <section className="card" aria-label="Jobs">
        <h3>Jobs</h3>
        {jobs.error && <p className="error">{jobs.error}</p>}
        <table className="plain" data-testid="jobs">
          <thead><tr><th>Job</th><th>Type</th><th>Status</th><th>Duration</th><th>Parameters</th><th>Message</th><th /></tr></thead>
          <tbody>
            {objects(jobs.result).map((j) => {
              const jid = String(j.job_id);
              const st = String(j.status);
              return (
                <tr key={jid} data-job={jid}>
                  <td><code>{jid}</code></td><td>{cellText(j.job_type)}</td>
                  <td><span className={'badge ' + st} data-testid="job-status">{st}</span></td>
                  <td className="num">{duration(j)}</td>
                  <td><code>{cellText(j.parameters)}</code></td>
                  <td>{j.message === null ? '' : cellText(j.message)}</td>
                  <td>{(st === 'queued' || st === 'running') && (
                    <button className="danger small" aria-label={`Kill job ${jid}`} onClick={() => action.run(`KILL JOB ${sqlString(jid)}`, `Kill job ${jid}?`)}>KILL</button>
                  )}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </section>
    </div>
  );
}
