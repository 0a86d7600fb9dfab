// JSON in and out without losing 64-bit integers. The server sends BIGINT values as strings, but a
// few protocol fields (`batch_control.last_seq_id`) are bare JSON numbers above 2^53, which
// `JSON.parse` would round. parseJson quotes every integer literal too large for a JS number
// before parsing, so it arrives as its exact decimal string; stringifyJson writes a bigint as a
// bare integer literal.

const SAFE_DIGITS = 15; // any integer of at most 15 digits is exact in a double

/** Parses JSON text; integer literals that a JS number cannot hold exactly become strings. */
export function parseJson(text: string): unknown {
  return JSON.parse(quoteBigIntegers(text));
}

function quoteBigIntegers(text: string): string {
  let out: string[] | null = null;
  let last = 0;
  let inString = false;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) {
      inString = true;
      continue;
    }
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      let j = i + (c === 0x2d ? 1 : 0);
      const digitsStart = j;
      while (j < n && text.charCodeAt(j) >= 0x30 && text.charCodeAt(j) <= 0x39) j++;
      const next = j < n ? text.charCodeAt(j) : 0;
      const isInteger = next !== 0x2e && next !== 0x65 && next !== 0x45; // not . e E
      if (isInteger && j - digitsStart > SAFE_DIGITS) {
        const literal = text.slice(i, j);
        if (!Number.isSafeInteger(Number(literal))) {
          (out ??= []).push(text.slice(last, i), '"', literal, '"');
          last = j;
        }
      }
      // Skip the rest of a number (fraction, exponent) so its digits are not rescanned.
      while (j < n) {
        const d = text.charCodeAt(j);
        if ((d >= 0x30 && d <= 0x39) || d === 0x2e || d === 0x65 || d === 0x45 || d === 0x2b || d === 0x2d) j++;
        else break;
      }
      i = j - 1;
    }
  }
  if (out === null) return text;
  out.push(text.slice(last));
  return out.join('');
}

/** JSON.stringify that writes bigint values as exact integer literals. */
export function stringifyJson(value: unknown): string {
  if (typeof value === 'bigint') return value.toString();
  if (value === null || typeof value !== 'object') {
    const s = JSON.stringify(value);
    return s === undefined ? 'null' : s;
  }
  const v = value as { toJSON?: () => unknown };
  if (typeof v.toJSON === 'function') return stringifyJson(v.toJSON());
  if (Array.isArray(value)) return '[' + value.map(stringifyJson).join(',') + ']';
  const parts: string[] = [];
  for (const [k, x] of Object.entries(value)) {
    if (x === undefined || typeof x === 'function') continue;
    parts.push(JSON.stringify(k) + ':' + stringifyJson(x));
  }
  return '{' + parts.join(',') + '}';
}
