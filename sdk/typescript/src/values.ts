// Typed values: the wire encoding of PROTOCOL §5 turned into exact JavaScript values.
import { KalamError } from './errors.js';
import { parseFileRef } from './files.js';

/** A column type as the server names it: "BigInt", "Text", {"Decimal":{…}}, {"Embedding":384}, … */
export type DataType = string | { Decimal: { precision: number; scale: number } } | { Embedding: number } | Record<string, unknown>;

export interface SchemaField {
  name: string;
  data_type: DataType;
  index: number;
  flags?: string[];
}

/** TIMESTAMP / DATETIME: exact microseconds since the Unix epoch (UTC). */
export class KalamTimestamp {
  constructor(readonly micros: bigint) {}
  toDate(): Date {
    return new Date(Number(this.micros / 1000n) - (this.micros % 1000n < 0n ? 1 : 0));
  }
  toISOString(): string {
    return this.toDate().toISOString();
  }
  toJSON(): string {
    return this.toISOString();
  }
  toString(): string {
    return this.toISOString();
  }
}

/** DATE: days since the Unix epoch. */
export class KalamDate {
  constructor(readonly days: number) {}
  /** Midnight UTC of the day. */
  toDate(): Date {
    return new Date(this.days * 86400000);
  }
  /** "YYYY-MM-DD" */
  toString(): string {
    return this.toDate().toISOString().slice(0, 10);
  }
  toJSON(): string {
    return this.toString();
  }
}

/** How rows are decoded. */
export interface DecodeOptions {
  /** Parse JSON (and FILE) columns into values instead of leaving their text. Default false. */
  parseJson?: boolean;
  /** FILE values that are FileRefs become `FileRef` objects (other text stays as is, or is
   * parsed with parseJson). Default false. */
  parseFiles?: boolean;
}

export type Value =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | number[]
  | KalamTimestamp
  | KalamDate
  | unknown;

export function typeName(t: DataType): string {
  return typeof t === 'string' ? t : Object.keys(t)[0] ?? '';
}

function toBigInt(raw: unknown): bigint {
  if (typeof raw === 'bigint') return raw;
  if (typeof raw === 'string' || (typeof raw === 'number' && Number.isInteger(raw))) return BigInt(raw);
  throw new KalamError('PROTOCOL_ERROR', `expected an integer, got ${JSON.stringify(raw)}`);
}

/** Decodes one wire value of column type `t`. Unknown types pass through unchanged. */
export function decodeValue(t: DataType, raw: unknown, opts: DecodeOptions = {}): Value {
  if (raw === null || raw === undefined) return null;
  switch (typeName(t)) {
    case 'BigInt':
      return toBigInt(raw);
    case 'Timestamp':
    case 'DateTime':
      return new KalamTimestamp(toBigInt(raw));
    case 'Date':
      return new KalamDate(Number(raw));
    case 'Bytes':
      return Array.isArray(raw) ? Uint8Array.from(raw as number[]) : raw;
    case 'File':
      if (opts.parseFiles) {
        const ref = parseFileRef(raw);
        if (ref) return ref;
      }
      return opts.parseJson && typeof raw === 'string' ? JSON.parse(raw) : raw;
    case 'Json':
      return opts.parseJson && typeof raw === 'string' ? JSON.parse(raw) : raw;
    case 'SmallInt':
    case 'Int':
    case 'Time':
      return typeof raw === 'string' ? Number(raw) : raw;
    default:
      // Decimal stays the server's exact string; Text, Uuid, Boolean, Float, Double, Embedding as sent.
      return raw;
  }
}

/** Encodes a parameter for `$n`: bigint → decimal string (exact), Date → ISO-8601,
 * KalamTimestamp → integer µs string, SeqId-like → string. */
export function encodeParam(p: unknown): null | boolean | number | string {
  if (p === null || p === undefined) return null;
  if (typeof p === 'bigint') return p.toString();
  if (typeof p === 'boolean' || typeof p === 'string') return p;
  if (typeof p === 'number') {
    if (!Number.isFinite(p)) throw new KalamError('INVALID_PARAMETER', `parameter ${p} is not finite`);
    return p;
  }
  if (p instanceof Date) return p.toISOString();
  if (p instanceof KalamTimestamp) return p.micros.toString();
  if (p instanceof KalamDate) return p.toString();
  if (typeof (p as { toJSON?: unknown }).toJSON === 'function') return encodeParam((p as { toJSON(): unknown }).toJSON());
  if (typeof p === 'object') return JSON.stringify(p); // a JSON column value
  throw new KalamError('INVALID_PARAMETER', `unsupported parameter type ${typeof p}`);
}
