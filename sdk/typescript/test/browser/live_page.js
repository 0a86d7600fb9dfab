// Browser test page: a live() row set over the browser's own WebSocket (in-band auth, gzip
// frames inflated with DecompressionStream). The Node runner drives writes and cuts.
import { createClient, Auth } from '../../dist/index.js';

const q = new URLSearchParams(location.search);
const state = { rows: [], calls: 0, errors: [], ready: false };
window.kalamTest = state;
const client = createClient({
  url: q.get('url'),
  authProvider: Auth.basic('root', q.get('password')),
  reconnectMinDelayMs: 5,
  reconnectMaxDelayMs: 40,
});
state.client = client;
state.info = () => ({
  connects: client.connection.connects,
  connected: client.isConnected(),
  gzipFrames: client.connection.gzipFrames,
  protocolErrors: client.connection.protocolErrors,
  calls: state.calls,
  errors: state.errors,
  node: typeof process !== 'undefined',
  rows: state.rows.map((r) => [String(r.id), r.v, r.label]),
  lastSeqId: client.getSubscriptions()[0]?.lastSeqId?.toString() ?? null,
});
await client.live(
  'SELECT id, v, label FROM app.chaos',
  (rows) => {
    state.rows = rows;
    state.calls++;
  },
  { subscriptionOptions: { batch_size: 16 }, onError: (e) => state.errors.push(`${e.code}: ${e.message}`) },
);
state.ready = true;
