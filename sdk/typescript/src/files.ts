// FILE columns: the FileRef a FILE column holds, the stored name the download route expects, and
// the multipart form of an upload (docs/files.md).
import { KalamError } from './errors.js';
import { stringifyJson } from './json.js';

/** The JSON a FILE column holds for an uploaded file. */
export interface FileRef {
  /** Snowflake id (decimal string); also the download's ETag. */
  id: string;
  /** Folder of the table's storage: "f0001", "f0002", … */
  sub: string;
  /** The original file name as uploaded. */
  name: string;
  /** Size in bytes. */
  size: number;
  mime: string;
  /** Lower-case hex SHA-256 of the content. */
  sha256: string;
}

/** One file of `queryWithFiles`: bytes, a Blob/File (its name and type are used), or bytes with a
 * name and MIME type. Without a type the part is sent as application/octet-stream. */
export type FileInput =
  | Blob
  | Uint8Array
  | ArrayBuffer
  | { data: Blob | Uint8Array | ArrayBuffer | string; filename?: string; mimeType?: string };

/** The FileRef in a FILE value (its JSON text or an already parsed object), or null when the value
 * is not a FileRef (a FILE column accepts any JSON text). */
export function parseFileRef(value: unknown): FileRef | null {
  let v = value;
  if (typeof v === 'string') {
    if (!v.startsWith('{')) return null;
    try {
      v = JSON.parse(v);
    } catch {
      return null;
    }
  }
  if (v === null || typeof v !== 'object') return null;
  const o = v as Record<string, unknown>;
  if (typeof o.id !== 'string' || !/^[0-9]{1,20}$/.test(o.id)) return null;
  if (typeof o.sub !== 'string' || !/^f[0-9]{4}$/.test(o.sub)) return null;
  if (typeof o.name !== 'string') return null;
  return {
    id: o.id,
    sub: o.sub,
    name: o.name,
    size: typeof o.size === 'number' ? o.size : 0,
    mime: typeof o.mime === 'string' ? o.mime : '',
    sha256: typeof o.sha256 === 'string' ? o.sha256 : '',
  };
}

const lowerAscii = (s: string): string => s.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));

function baseName(name: string): string {
  const slash = Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\'));
  return slash >= 0 ? name.slice(slash + 1) : name;
}

/** The file's name in storage, as the server derives it: `<id>-<sanitised name>.<ext>` (lower-case
 * base name, [a-z0-9] kept, space/_/- → one '-', at most 50 characters; `ext` lower-cased when
 * alphanumeric and at most 10 characters, else "bin"), or `<id>.<ext>` when nothing survives. */
export function storedFileName(ref: Pick<FileRef, 'id' | 'name'>): string {
  const name = baseName(ref.name);
  const dot = name.lastIndexOf('.');
  let ext = 'bin';
  if (dot > 0 && dot + 1 < name.length) {
    const e = lowerAscii(name.slice(dot + 1));
    if (e.length <= 10 && /^[a-z0-9]+$/.test(e)) ext = e;
  }
  const stem = dot > 0 ? name.slice(0, dot) : name;
  let out = '';
  for (const raw of stem) {
    const c = lowerAscii(raw);
    if (/^[a-z0-9]$/.test(c)) out += c;
    else if ((c === ' ' || c === '_' || c === '-') && out !== '' && !out.endsWith('-')) out += '-';
  }
  out = out.replace(/-+$/, '');
  if (out.length > 50) out = out.slice(0, 50).replace(/-+$/, '');
  return ref.id + (out ? '-' + out : '') + '.' + ext;
}

/** The multipart form of an upload: `sql`, `params`, `namespace_id` and one `file:<name>` per file. */
export function uploadForm(sql: string, files: Record<string, FileInput>, params: unknown[] | undefined, namespace: string | undefined): FormData {
  const form = new FormData();
  form.append('sql', sql);
  if (params && params.length > 0) form.append('params', stringifyJson(params));
  if (namespace) form.append('namespace_id', namespace);
  for (const [name, input] of Object.entries(files)) {
    if (!name) throw new KalamError('INVALID_ARGUMENT', 'file placeholder names must not be empty');
    let data: Blob | Uint8Array | ArrayBuffer | string;
    let filename: string | undefined;
    let type: string | undefined;
    if (input instanceof Blob || input instanceof Uint8Array || input instanceof ArrayBuffer) data = input;
    else if (input && typeof input === 'object' && 'data' in input) ({ data, filename, mimeType: type } = input);
    else throw new KalamError('INVALID_ARGUMENT', `file '${name}' must be a Blob, Uint8Array, ArrayBuffer or {data, filename, mimeType}`);
    if (data instanceof Blob) {
      const own = (data as Blob & { name?: unknown }).name; // a File's name
      if (typeof own === 'string' && own !== '') filename ??= own;
      if (type !== undefined && type !== data.type) data = new Blob([data], { type });
    } else {
      data = new Blob([data as BlobPart], type ? { type } : {});
    }
    form.append(`file:${name}`, data as Blob, filename ?? name);
  }
  return form;
}
