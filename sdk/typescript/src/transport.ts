// The WebSocket transport: the browser's WebSocket (no headers possible: the token goes in-band)
// or, on Node, a small RFC 6455 client over node:http that sends `Authorization: Bearer` on the
// upgrade. Plus gzip inflation: DecompressionStream in browsers, zlib on Node.
import { KalamError } from './errors.js';

export interface WireHandlers {
  onMessage(data: string | Uint8Array): void;
  onClose(code: number, reason: string): void;
}

export interface WireSocket {
  send(text: string): void;
  /** Closes the connection (no further onMessage/onClose calls). */
  close(): void;
}

export type Opener = (url: string, bearer: string | undefined, h: WireHandlers, timeoutMs: number) => Promise<WireSocket>;

export const isNode: boolean =
  typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === 'string' &&
  typeof (globalThis as { window?: unknown }).window === 'undefined';

// Node built-ins are imported through a variable so browser bundlers leave them alone.
const nodeImport = (name: string): Promise<any> => import(/* @vite-ignore */ name);

let nodeGunzip: ((b: Uint8Array) => string) | undefined;

/** Loads what the Node transport needs (once). */
export async function loadNodeSupport(): Promise<void> {
  if (nodeGunzip) return;
  const zlib = await nodeImport('node:zlib');
  nodeGunzip = (b) => zlib.gunzipSync(b).toString('utf8');
}

/** Inflates a gzip binary frame to its JSON text. Synchronous on Node. */
export function gunzip(bytes: Uint8Array): string | Promise<string> {
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) {
    throw new KalamError('PROTOCOL_ERROR', 'binary frame is not gzip');
  }
  if (nodeGunzip) return nodeGunzip(bytes);
  const DS = (globalThis as { DecompressionStream?: new (f: string) => TransformStream<Uint8Array, Uint8Array> }).DecompressionStream;
  if (!DS) throw new KalamError('PROTOCOL_ERROR', 'gzip frame but no DecompressionStream (connect with compression: false)');
  const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(new DS('gzip'));
  return new Response(stream).text();
}

/** The browser's (or any global) WebSocket. The token is never put on the upgrade. */
export const openBrowserSocket: Opener = (url, _bearer, h, timeoutMs) =>
  new Promise((resolve, reject) => {
    const WS = (globalThis as { WebSocket?: typeof WebSocket }).WebSocket;
    if (!WS) return reject(new KalamError('NETWORK_ERROR', 'no WebSocket implementation in this runtime'));
    const ws = new WS(url);
    ws.binaryType = 'arraybuffer';
    let opened = false;
    let closed = false;
    const timer = setTimeout(() => {
      if (!opened) {
        closed = true;
        ws.close();
        reject(new KalamError('TIMEOUT', `WebSocket connect timed out: ${url}`));
      }
    }, timeoutMs);
    ws.onopen = () => {
      opened = true;
      clearTimeout(timer);
      resolve({
        send: (t) => ws.send(t),
        close: () => {
          closed = true;
          ws.close();
        },
      });
    };
    ws.onmessage = (ev) => {
      if (closed) return;
      h.onMessage(typeof ev.data === 'string' ? ev.data : new Uint8Array(ev.data as ArrayBuffer));
    };
    ws.onerror = () => {
      if (!opened && !closed) {
        closed = true;
        clearTimeout(timer);
        reject(new KalamError('NETWORK_ERROR', `WebSocket connect failed: ${url}`));
      }
    };
    ws.onclose = (ev) => {
      clearTimeout(timer);
      if (!opened) {
        if (!closed) reject(new KalamError('NETWORK_ERROR', `WebSocket closed before open: ${ev.code}`));
        closed = true;
        return;
      }
      if (closed) return;
      closed = true;
      h.onClose(ev.code, ev.reason);
    };
  });

/** RFC 6455 client over node:http (text/binary/close/ping frames; fragmented messages). */
export const openNodeSocket: Opener = async (url, bearer, h, timeoutMs) => {
  const http = await nodeImport('node:http');
  const https = url.startsWith('wss:') ? await nodeImport('node:https') : undefined;
  const crypto = await nodeImport('node:crypto');
  await loadNodeSupport();
  const u = new URL(url);
  const key = crypto.randomBytes(16).toString('base64');
  const headers: Record<string, string> = {
    Connection: 'Upgrade',
    Upgrade: 'websocket',
    'Sec-WebSocket-Key': key,
    'Sec-WebSocket-Version': '13',
  };
  if (bearer) headers['Authorization'] = `Bearer ${bearer}`;
  return new Promise((resolve, reject) => {
    const req = (https ?? http).request({
      host: u.hostname,
      port: u.port || (https ? 443 : 80),
      path: u.pathname + u.search,
      headers,
      timeout: timeoutMs,
    });
    let settled = false;
    const fail = (e: KalamError) => {
      if (settled) return;
      settled = true;
      req.destroy();
      reject(e);
    };
    req.on('timeout', () => fail(new KalamError('TIMEOUT', `WebSocket connect timed out: ${url}`)));
    req.on('error', (e: Error) => fail(new KalamError('NETWORK_ERROR', `WebSocket connect failed: ${e.message}`)));
    req.on('response', (res: any) => {
      let text = '';
      res.on('data', (c: Uint8Array) => (text += c.toString()));
      res.on('end', () => {
        const code = res.statusCode === 401 || res.statusCode === 403 ? 'AUTH_ERROR' : 'NETWORK_ERROR';
        fail(new KalamError(code, `WebSocket upgrade refused: HTTP ${res.statusCode} ${text}`, res.statusCode));
      });
    });
    req.on('upgrade', (res: any, socket: any, head: Uint8Array) => {
      const expect = crypto.createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
      if (res.headers['sec-websocket-accept'] !== expect) {
        socket.destroy();
        return fail(new KalamError('PROTOCOL_ERROR', `bad Sec-WebSocket-Accept ${res.headers['sec-websocket-accept']} != ${expect}`));
      }
      settled = true;
      socket.setTimeout(0);
      socket.setNoDelay(true);
      let closed = false;
      let buf: Uint8Array = head && head.length ? new Uint8Array(head) : new Uint8Array(0);
      let fragments: Uint8Array[] = [];
      let fragOpcode = 0;
      const finish = (code: number, reason: string) => {
        if (closed) return;
        closed = true;
        socket.destroy();
        h.onClose(code, reason);
      };
      const writeFrame = (opcode: number, payload: Uint8Array) => {
        const len = payload.length;
        const hdrLen = len < 126 ? 2 : len < 65536 ? 4 : 10;
        const frame = new Uint8Array(hdrLen + 4 + len);
        frame[0] = 0x80 | opcode;
        if (len < 126) frame[1] = 0x80 | len;
        else if (len < 65536) {
          frame[1] = 0x80 | 126;
          frame[2] = len >> 8;
          frame[3] = len & 0xff;
        } else {
          frame[1] = 0x80 | 127;
          new DataView(frame.buffer).setBigUint64(2, BigInt(len));
        }
        const mask = crypto.randomBytes(4) as Uint8Array;
        frame.set(mask, hdrLen);
        for (let i = 0; i < len; i++) frame[hdrLen + 4 + i] = payload[i]! ^ mask[i & 3]!;
        socket.write(frame);
      };
      const parse = () => {
        for (;;) {
          if (buf.length < 2) return;
          const b0 = buf[0]!;
          const b1 = buf[1]!;
          let len = b1 & 0x7f;
          let off = 2;
          if (len === 126) {
            if (buf.length < 4) return;
            len = (buf[2]! << 8) | buf[3]!;
            off = 4;
          } else if (len === 127) {
            if (buf.length < 10) return;
            len = Number(new DataView(buf.buffer, buf.byteOffset + 2, 8).getBigUint64(0));
            off = 10;
          }
          const masked = (b1 & 0x80) !== 0;
          const maskOff = off;
          if (masked) off += 4;
          if (buf.length < off + len) return;
          let payload = buf.subarray(off, off + len);
          if (masked) {
            const m = buf.subarray(maskOff, maskOff + 4);
            payload = payload.map((x, i) => x ^ m[i & 3]!);
          }
          buf = buf.subarray(off + len);
          const fin = (b0 & 0x80) !== 0;
          const opcode = b0 & 0x0f;
          if (opcode === 0x8) {
            const code = payload.length >= 2 ? (payload[0]! << 8) | payload[1]! : 1005;
            const reason = new TextDecoder().decode(payload.subarray(2));
            if (!closed) writeFrame(0x8, payload.subarray(0, 2));
            return finish(code, reason);
          }
          if (opcode === 0x9) {
            writeFrame(0xa, payload);
            continue;
          }
          if (opcode === 0xa) continue;
          if (opcode === 0x1 || opcode === 0x2) {
            fragOpcode = opcode;
            fragments = [];
          }
          fragments.push(payload.slice());
          if (!fin) continue;
          const total = fragments.reduce((n, f) => n + f.length, 0);
          const whole = fragments.length === 1 ? fragments[0]! : new Uint8Array(total);
          if (fragments.length > 1) {
            let p = 0;
            for (const f of fragments) {
              whole.set(f, p);
              p += f.length;
            }
          }
          fragments = [];
          if (closed) return;
          h.onMessage(fragOpcode === 0x1 ? new TextDecoder().decode(whole) : whole);
        }
      };
      socket.on('data', (chunk: Uint8Array) => {
        if (buf.length === 0) buf = new Uint8Array(chunk);
        else {
          const n = new Uint8Array(buf.length + chunk.length);
          n.set(buf, 0);
          n.set(chunk, buf.length);
          buf = n;
        }
        try {
          parse();
        } catch (e) {
          finish(1002, `protocol error: ${(e as Error).message}`);
        }
      });
      socket.on('close', () => finish(1006, 'connection lost'));
      socket.on('error', () => finish(1006, 'connection lost'));
      const enc = new TextEncoder();
      resolve({
        send: (t) => {
          if (!closed) writeFrame(0x1, enc.encode(t));
        },
        close: () => {
          if (closed) return;
          try {
            writeFrame(0x8, new Uint8Array([0x03, 0xe8]));
          } catch {
            // the socket is already gone; destroying it below is all that is left to do
          }
          closed = true;
          socket.end();
          const t: any = setTimeout(() => socket.destroy(), 1000);
          t.unref?.();
        },
      });
      if (buf.length) parse();
    });
    req.end();
  });
};
