// React test page: useLiveQuery under StrictMode with an inline options object.
import { StrictMode, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { createClient, Auth } from '../../dist/index.js';
import { KalamProvider, useLiveQuery } from '../../react/dist/index.js';

const q = new URLSearchParams(location.search);
const client = createClient({ url: q.get('url'), authProvider: Auth.basic('root', q.get('password')) });
const stats = { liveCalls: 0, renders: 0 };
const live = client.live.bind(client);
client.live = (...args) => {
  stats.liveCalls++;
  return live(...args);
};
window.reactTest = {
  stats,
  subscriptions: () => client.getSubscriptions().length,
};

function Items() {
  const [, setTick] = useState(0);
  stats.renders++;
  // A new options object and a new callback on every render: must not resubscribe.
  const { rows, loading, error } = useLiveQuery('SELECT id, v, label FROM app.react_items', {
    subscriptionOptions: { batch_size: 10 },
    onError: () => setTick((t) => t + 1),
  });
  if (error) return <p id="error">{error.code}: {error.message}</p>;
  if (loading) return <p id="loading">loading</p>;
  return (
    <ul id="items">
      {rows.map((r) => (
        <li key={String(r.id)}>{`${r.id}:${r.label}`}</li>
      ))}
    </ul>
  );
}

function Bad() {
  const { error, loading } = useLiveQuery('SELECT * FROM app.does_not_exist', {});
  return <p id="bad">{loading ? 'loading' : error ? error.code : 'no error'}</p>;
}

createRoot(document.getElementById('root')).render(
  <StrictMode>
    <KalamProvider client={client}>
      <Items />
      <Bad />
    </KalamProvider>
  </StrictMode>,
);
