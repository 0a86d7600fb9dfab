/** Milliseconds between the Unix epoch and the Snowflake epoch (2024-01-01T00:00:00Z). */
const SNOWFLAKE_EPOCH_MS = 1704067200000n;

/** A `_seq` position: an exact 64-bit Snowflake id (never a lossy JS number). */
export class SeqId {
  readonly value: bigint;

  constructor(value: bigint) {
    if (value < 0n || value > 0xffffffffffffffffn) throw new RangeError(`SeqId out of range: ${value}`);
    this.value = value;
  }

  /** From a bigint, a decimal string, a safe integer number or another SeqId. */
  static from(v: SeqId | bigint | string | number): SeqId {
    if (v instanceof SeqId) return v;
    if (typeof v === 'bigint') return new SeqId(v);
    if (typeof v === 'number') {
      if (!Number.isSafeInteger(v)) throw new RangeError(`SeqId ${v} is not an exact integer; pass a string or bigint`);
      return new SeqId(BigInt(v));
    }
    if (!/^\d+$/.test(v)) throw new RangeError(`SeqId must be a decimal integer, got ${JSON.stringify(v)}`);
    return new SeqId(BigInt(v));
  }

  toBigInt(): bigint {
    return this.value;
  }
  toString(): string {
    return this.value.toString();
  }
  toJSON(): string {
    return this.value.toString();
  }
  equals(other: SeqId | bigint | string | number): boolean {
    return SeqId.from(other).value === this.value;
  }
  compareTo(other: SeqId): number {
    return this.value < other.value ? -1 : this.value > other.value ? 1 : 0;
  }
  /** Commit time encoded in the id (41 bits of ms since 2024-01-01). */
  toDate(): Date {
    return new Date(Number((this.value >> 22n) + SNOWFLAKE_EPOCH_MS));
  }
}
