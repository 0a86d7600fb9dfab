// Results grid: virtualised rows (thousands stay smooth), horizontal scrolling for wide tables,
// NULL shown as NULL, a detail pane with the selected cell's full (pretty JSON) value.
import { useRef, useState } from 'react';
import type { QueryResult } from '@kalamdb/client';
import { cellText, detailText } from './format';

const ROW_H = 26;
const VIEW_ROWS = 24;

export function Grid({ result, rowClass, testId = 'grid' }: {
  result: Pick<QueryResult, 'schema' | 'rows'>;
  rowClass?: (i: number) => string | undefined;
  testId?: string;
}) {
  const [top, setTop] = useState(0);
  const [sel, setSel] = useState<[number, number] | null>(null);
  const box = useRef<HTMLDivElement>(null);
  const n = result.rows.length;
  const first = Math.max(0, Math.floor(top / ROW_H) - 8);
  const last = Math.min(n, first + VIEW_ROWS + 16);
  const selField = sel ? result.schema[sel[1]] : undefined;
  const selValue = sel ? result.rows[sel[0]]?.[sel[1]] : undefined;
  return (
    <div className="grid-wrap">
      <div className="grid" ref={box} data-testid={testId} onScroll={(e) => setTop(e.currentTarget.scrollTop)}>
        <table>
          <thead>
            <tr>
              <th className="rownum">#</th>
              {result.schema.map((f) => (
                <th key={f.name} title={typeof f.data_type === 'string' ? f.data_type : JSON.stringify(f.data_type)}>
                  {f.name}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {first > 0 && <tr style={{ height: first * ROW_H }} aria-hidden="true" />}
            {result.rows.slice(first, last).map((row, k) => {
              const i = first + k;
              return (
                <tr key={i} className={rowClass?.(i)} data-row={i}>
                  <td className="rownum">{i + 1}</td>
                  {row.map((v, j) => (
                    <td
                      key={j}
                      className={(v === null ? 'null ' : '') + (sel && sel[0] === i && sel[1] === j ? 'sel' : '')}
                      onClick={() => setSel([i, j])}
                    >
                      {cellText(v)}
                    </td>
                  ))}
                </tr>
              );
            })}
            {last < n && <tr style={{ height: (n - last) * ROW_H }} aria-hidden="true" />}
          </tbody>
        </table>
      </div>
      {sel && selField && (
        <div className="detail" data-testid="cell-detail">
          <div className="detail-head">
            <b>{selField.name}</b> row {sel[0] + 1}
            <button className="link" onClick={() => setSel(null)}>close</button>
          </div>
          <pre>{detailText(selValue, selField)}</pre>
        </div>
      )}
    </div>
  );
}
