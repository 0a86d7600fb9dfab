// Cell values for display and export: exact BIGINTs, NULL as NULL, JSON pretty-printed.
import type { QueryResult, SchemaField } from '@kalamdb/client';

export function isJsonType(f: SchemaField | undefined): boolean {
  return typeof f?.data_type === 'string' && f.data_type.toLowerCase() === 'json';
}

/** One-line text of a value; null → "NULL". */
export function cellText(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return '0x' + Array.from(v, (b) => b.toString(16).padStart(2, '0')).join('');
  if (typeof v === 'object' && typeof (v as { toString?: unknown }).toString === 'function' &&
      (v as object).toString !== Object.prototype.toString) {
    return String(v);
  }
  return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x));
}

/** The full text of a value for the detail pane: JSON pretty-printed. */
export function detailText(v: unknown, f?: SchemaField): string {
  if (typeof v === 'string' && (isJsonType(f) || /^\s*[[{]/.test(v))) {
    try {
      return JSON.stringify(JSON.parse(v), null, 2);
    } catch {
      return v;
    }
  }
  return cellText(v);
}

function csvField(s: string): string {
  return /[",\n\r]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
}

export function toCsv(r: QueryResult): string {
  const lines = [r.schema.map((f) => csvField(f.name)).join(',')];
  for (const row of r.rows) lines.push(row.map((v) => (v === null ? '' : csvField(cellText(v)))).join(','));
  return lines.join('\n') + '\n';
}

/** Rows as JSON objects; BIGINTs as strings (exact), NULL as null, JSON columns parsed. */
export function toJson(r: QueryResult): string {
  const out = r.rows.map((row) => {
    const o: Record<string, unknown> = {};
    r.schema.forEach((f, i) => {
      const v = row[i];
      if (v === null || v === undefined) o[f.name] = null;
      else if (isJsonType(f) && typeof v === 'string') {
        try {
          o[f.name] = JSON.parse(v);
        } catch {
          o[f.name] = v;
        }
      } else if (typeof v === 'number' || typeof v === 'boolean') o[f.name] = v;
      else o[f.name] = cellText(v);
    });
    return o;
  });
  return JSON.stringify(out, null, 2) + '\n';
}

export function download(name: string, text: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** A SQL string literal. */
export function sqlString(s: string): string {
  return "'" + s.replace(/'/g, "''") + "'";
}

/** A plain identifier (letters, digits, underscore), else an error. */
export function ident(s: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(s)) throw new Error(`'${s}' is not a valid name (letters, digits, _)`);
  return s;
}

/** Rows of a result as objects keyed by column name. */
export function objects(r: QueryResult | undefined): Record<string, unknown>[] {
  if (!r) return [];
  return r.rows.map((row) => Object.fromEntries(r.schema.map((f, i) => [f.name, row[i]])));
}

export function ms(n: number): string {
  return n < 1000 ? `${n.toFixed(n < 10 ? 1 : 0)} ms` : `${(n / 1000).toFixed(2)} s`;
}
