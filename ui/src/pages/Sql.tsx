// SQL studio: CodeMirror editor (highlighting, completion of keywords, namespaces, tables and
// columns), Ctrl+Enter runs the selection or everything, results grid, timing, errors with their
// code, local history, CSV/JSON export.
import { useEffect, useRef, useState } from 'react';
import type { KalamClient, QueryResponse } from '@kalamdb/client';
import { EditorState, Prec } from '@codemirror/state';
import { EditorView, keymap, lineNumbers, highlightActiveLine, drawSelection, placeholder } from '@codemirror/view';
import { defaultKeymap, history, historyKeymap } from '@codemirror/commands';
import { autocompletion, completionKeymap, closeBrackets } from '@codemirror/autocomplete';
import { HighlightStyle, syntaxHighlighting, bracketMatching } from '@codemirror/language';
import { tags } from '@lezer/highlight';
import { keywordCompletionSource, schemaCompletionSource, StandardSQL, type SQLNamespace } from '@codemirror/lang-sql';
import type { CompletionContext } from '@codemirror/autocomplete';
import type { Extension } from '@codemirror/state';
import { Compartment } from '@codemirror/state';
import { Grid } from '../Grid';
import { download, ms, toCsv, toJson } from '../format';
import { errText } from '../useSql';

const HISTORY_KEY = 'kalam.history';
interface HistoryItem { sql: string; at: number; ok: boolean }

const highlight = HighlightStyle.define([
  { tag: tags.keyword, color: 'var(--syn-keyword)', fontWeight: '600' },
  { tag: [tags.string, tags.special(tags.string)], color: 'var(--syn-string)' },
  { tag: [tags.number, tags.bool, tags.null], color: 'var(--syn-number)' },
  { tag: tags.comment, color: 'var(--syn-comment)', fontStyle: 'italic' },
  { tag: [tags.typeName, tags.standard(tags.name)], color: 'var(--syn-type)' },
  { tag: tags.operator, color: 'var(--syn-op)' },
]);

function loadHistory(): HistoryItem[] {
  try {
    return JSON.parse(localStorage.getItem(HISTORY_KEY) ?? '[]') as HistoryItem[];
  } catch {
    return [];
  }
}

/** SQL highlighting and completion: keywords, and namespaces, tables and columns from `schema`.
 *  After a `name.` only the schema's members are offered (a keyword cannot follow a dot). */
function sqlLanguage(schema?: SQLNamespace): Extension {
  const keywords = keywordCompletionSource(StandardSQL, true);
  const data = [StandardSQL.language.data.of({
    autocomplete: (ctx: CompletionContext) => (ctx.matchBefore(/\.\w*$/) ? null : keywords(ctx)),
  })];
  if (schema) data.push(StandardSQL.language.data.of({ autocomplete: schemaCompletionSource({ dialect: StandardSQL, schema }) }));
  return [StandardSQL.language, ...data];
}

/** namespace → table → columns, for completion. */
async function loadSchema(client: KalamClient): Promise<SQLNamespace> {
  const r = await client.query(
    'SELECT table_schema, table_name, column_name FROM information_schema.columns ORDER BY table_schema, table_name, ordinal_position LIMIT 1000',
  );
  const out: Record<string, Record<string, string[]>> = {};
  for (const [ns, t, c] of r.results[0]!.rows as string[][]) {
    ((out[ns!] ??= {})[t!] ??= []).push(c!);
  }
  return out;
}

export function SqlPage({ client }: { client: KalamClient }) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const runRef = useRef<() => void>(() => {});
  const lang = useRef(new Compartment());
  const [resp, setResp] = useState<{ r: QueryResponse; ms: number } | null>(null);
  const [error, setError] = useState('');
  const [running, setRunning] = useState(false);
  const [hist, setHist] = useState<HistoryItem[]>(loadHistory);
  const [tab, setTab] = useState(0);

  useEffect(() => {
    const v = new EditorView({
      parent: host.current!,
      state: EditorState.create({
        doc: sessionStorage.getItem('kalam.sql') ?? 'SELECT * FROM system.namespaces',
        extensions: [
          EditorView.cspNonce.of(document.querySelector<HTMLMetaElement>('meta[name="csp-nonce"]')?.content ?? ''),
          Prec.highest(keymap.of([{ key: 'Mod-Enter', run: () => (runRef.current(), true) }])),
          lineNumbers(),
          history(),
          drawSelection(),
          highlightActiveLine(),
          bracketMatching(),
          closeBrackets(),
          autocompletion(),
          syntaxHighlighting(highlight),
          lang.current.of(sqlLanguage()),
          keymap.of([...completionKeymap, ...defaultKeymap, ...historyKeymap]),
          placeholder('SQL… (Ctrl+Enter runs the selection, or everything)'),
          EditorView.contentAttributes.of({ 'aria-label': 'SQL editor', 'data-testid': 'sql-editor' }),
          EditorView.updateListener.of((u) => {
            if (u.docChanged) sessionStorage.setItem('kalam.sql', u.state.doc.toString());
          }),
        ],
      }),
    });
    view.current = v;
    v.focus();
    loadSchema(client)
      .then((schema) =>
        v.dispatch({ effects: lang.current.reconfigure(sqlLanguage(schema)) }),
      )
      .catch(() => undefined); // completion then offers keywords only
    return () => v.destroy();
  }, [client]);

  runRef.current = async () => {
    const v = view.current;
    if (!v || running) return;
    const s = v.state.selection.main;
    const text = (s.empty ? v.state.doc.toString() : v.state.sliceDoc(s.from, s.to)).trim();
    if (!text) return;
    setRunning(true);
    setError('');
    const t0 = performance.now();
    let ok = true;
    try {
      const r = await client.query(text);
      setResp({ r, ms: performance.now() - t0 });
      setTab(r.results.length - 1);
    } catch (e) {
      ok = false;
      setResp(null);
      setError(errText(e));
    } finally {
      setRunning(false);
    }
    const next = [{ sql: text, at: Date.now(), ok }, ...loadHistory().filter((h) => h.sql !== text)].slice(0, 100);
    localStorage.setItem(HISTORY_KEY, JSON.stringify(next));
    setHist(next);
  };

  const result = resp?.r.results[tab];
  return (
    <div className="page sql-page">
      <header className="toolbar">
        <h2>SQL studio</h2>
        <button onClick={() => runRef.current()} disabled={running} data-testid="run">
          {running ? 'Running…' : 'Run (Ctrl+Enter)'}
        </button>
        {result && result.schema.length > 0 && (
          <>
            <button className="secondary" onClick={() => download('result.csv', toCsv(result), 'text/csv')}>Export CSV</button>
            <button className="secondary" onClick={() => download('result.json', toJson(result), 'application/json')}>Export JSON</button>
          </>
        )}
      </header>
      <div className="sql-main">
        <div className="sql-work">
          <div className="editor" ref={host} />
          {error && <p className="error" role="alert" data-testid="sql-error">{error}</p>}
          {resp && (
            <div className="status" data-testid="sql-status">
              {result ? `${result.row_count} ${result.row_count === 1 ? 'row' : 'rows'}` : ''}
              {result?.truncated ? ' (truncated)' : ''} · {ms(resp.ms)} (server {ms(resp.r.took)})
              {result?.message ? ` · ${result.message}` : ''}
            </div>
          )}
          {resp && resp.r.results.length > 1 && (
            <div className="tabs" role="tablist">
              {resp.r.results.map((_, i) => (
                <button key={i} role="tab" aria-selected={i === tab} className={i === tab ? 'active' : ''} onClick={() => setTab(i)}>
                  Result {i + 1}
                </button>
              ))}
            </div>
          )}
          {result && result.schema.length > 0 && <Grid result={result} />}
        </div>
        <aside className="history" aria-label="History">
          <h3>History</h3>
          {hist.length === 0 && <p className="muted">Statements you run appear here.</p>}
          <ul>
            {hist.map((h) => (
              <li key={h.at + h.sql}>
                <button
                  className={'link ' + (h.ok ? '' : 'failed')}
                  title={new Date(h.at).toLocaleString()}
                  onClick={() => {
                    const v = view.current!;
                    v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: h.sql } });
                    v.focus();
                  }}
                >
                  {h.sql.length > 80 ? h.sql.slice(0, 80) + '…' : h.sql}
                </button>
              </li>
            ))}
          </ul>
        </aside>
      </div>
    </div>
  );
}
