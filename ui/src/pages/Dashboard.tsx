// Dashboard: health, version, uptime and key figures from system.stats as small charts
// (requests/s, commits/s, commit latency, live connections, live events/s), sampled every 2 s.
import { useEffect, useRef, useState } from 'react';
import type { KalamClient } from '@kalamdb/client';
import { errText } from '../useSql';

const EVERY_MS = 2000;
const KEEP = 60;

interface Sample { at: number; stats: Map<string, number> }

function sum(stats: Map<string, number>, prefix: string): number {
  let s = 0;
  for (const [k, v] of stats) if (k === prefix || k.startsWith(prefix + '{')) s += v;
  return s;
}

function Spark({ values, label, unit, testId }: { values: number[]; label: string; unit: string; testId: string }) {
  const w = 220;
  const h = 48;
  const max = Math.max(1e-9, ...values);
  const pts = values.map((v, i) => `${(i / Math.max(1, values.length - 1)) * w},${h - (v / max) * (h - 4) - 2}`).join(' ');
  const last = values.length ? values[values.length - 1]! : 0;
  return (
    <div className="card metric" data-testid={testId}>
      <div className="muted">{label}</div>
      <div className="big">{Number.isInteger(last) || last >= 10 ? Math.round(last) : last.toFixed(2)} <small>{unit}</small></div>
      <svg width={w} height={h} viewBox={`0 0 ${w} ${h}`} role="img" aria-label={`${label} over the last two minutes`}>
        <polyline points={pts} fill="none" stroke="currentColor" strokeWidth="1.5" />
      </svg>
    </div>
  );
}

export function DashboardPage({ client }: { client: KalamClient }) {
  const [health, setHealth] = useState<{ status?: string; version?: string } | null>(null);
  const [samples, setSamples] = useState<Sample[]>([]);
  const [error, setError] = useState('');
  const alive = useRef(true);
  useEffect(() => {
    alive.current = true;
    fetch('/health').then((r) => r.json()).then((j) => alive.current && setHealth(j)).catch(() => setHealth({ status: 'unreachable' }));
    const poll = async () => {
      try {
        const r = await client.query('SELECT metric_name, metric_value FROM system.stats LIMIT 1000');
        const stats = new Map<string, number>();
        for (const [k, v] of r.results[0]!.rows) stats.set(String(k), Number(v));
        if (alive.current) setSamples((s) => [...s, { at: Date.now(), stats }].slice(-KEEP - 1));
        setError('');
      } catch (e) {
        if (alive.current) setError(errText(e));
      }
    };
    void poll();
    const t = setInterval(poll, EVERY_MS);
    return () => {
      alive.current = false;
      clearInterval(t);
    };
  }, [client]);

  const rate = (name: string) =>
    samples.slice(1).map((s, i) => Math.max(0, (sum(s.stats, name) - sum(samples[i]!.stats, name)) / ((s.at - samples[i]!.at) / 1000)));
  const gauge = (name: string) => samples.map((s) => sum(s.stats, name));
  const latency = samples.slice(1).map((s, i) => {
    const p = samples[i]!;
    const n = sum(s.stats, 'kalamdb_commit_duration_seconds_count') - sum(p.stats, 'kalamdb_commit_duration_seconds_count');
    const t = sum(s.stats, 'kalamdb_commit_duration_seconds_sum') - sum(p.stats, 'kalamdb_commit_duration_seconds_sum');
    return n > 0 ? (t / n) * 1000 : 0;
  });
  const latest = samples[samples.length - 1]?.stats;
  const uptime = latest ? sum(latest, 'uptime_seconds') : 0;
  return (
    <div className="page">
      <header className="toolbar"><h2>Dashboard</h2></header>
      {error && <p className="error" role="alert">{error}</p>}
      <div className="figures">
        <div className="card metric" data-testid="health">
          <div className="muted">Health</div>
          <div className="big">{health?.status ?? '…'}</div>
          <div>version {health?.version ?? '?'}</div>
        </div>
        <div className="card metric">
          <div className="muted">Uptime</div>
          <div className="big" data-testid="uptime">{Math.floor(uptime / 3600)}h {Math.floor((uptime % 3600) / 60)}m {Math.floor(uptime % 60)}s</div>
          <div>{latest ? `${sum(latest, 'namespaces')} namespaces, ${sum(latest, 'tables')} tables` : ''}</div>
        </div>
        <Spark testId="chart-requests" label="HTTP requests/s" unit="req/s" values={rate('kalamdb_http_requests_total')} />
        <Spark testId="chart-commits" label="Commits/s" unit="/s" values={rate('kalamdb_commits_total')} />
        <Spark testId="chart-latency" label="Commit latency (mean)" unit="ms" values={latency} />
        <Spark testId="chart-connections" label="Live connections" unit="" values={gauge('kalamdb_live_connections')} />
        <Spark testId="chart-events" label="Live events/s" unit="/s" values={rate('kalamdb_live_events_delivered_total')} />
      </div>
    </div>
  );
}
