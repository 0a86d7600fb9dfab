// Users: list, create (role, password policy feedback from the server), change role or password,
// delete (with confirmation).
import { useState } from 'react';
import type { KalamClient } from '@kalamdb/client';
import { cellText, ident, objects, sqlString } from '../format';
import { errText, Msg, useAction, useSql } from '../useSql';

const ROLES = ['user', 'service', 'dba', 'system'];

export function UsersPage({ client }: { client: KalamClient }) {
  const users = useSql(client, 'SELECT user_id, role, email, auth_type, created_at, last_login_at, deleted_at FROM system.users ORDER BY user_id LIMIT 1000');
  const action = useAction(client, () => void users.reload());
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState('user');
  const [email, setEmail] = useState('');
  return (
    <div className="page">
      <header className="toolbar"><h2>Users</h2><button className="secondary" onClick={() => void users.reload()}>Refresh</button></header>
      <Msg msg={action.msg} />
      {users.error && <p className="error" role="alert">{users.error}</p>}
      <form className="card inline" aria-label="Create user" onSubmit={(e) => {
        e.preventDefault();
        try {
          const sql = `CREATE USER ${ident(name)} WITH PASSWORD ${sqlString(password)} ROLE ${role}` + (email ? ` EMAIL ${sqlString(email)}` : '');
          void action.run(sql).then((r) => { if (r) { setName(''); setPassword(''); setEmail(''); } });
        } catch (err) { action.setMsg({ ok: false, text: errText(err) }); }
      }}>
        <input aria-label="User name" placeholder="user name" value={name} onChange={(e) => setName(e.target.value)} />
        <input aria-label="Password" type="password" autoComplete="new-password" placeholder="password" value={password} onChange={(e) => setPassword(e.target.value)} />
        <select aria-label="Role" value={role} onChange={(e) => setRole(e.target.value)}>{ROLES.map((r) => <option key={r}>{r}</option>)}</select>
        <input aria-label="Email" placeholder="email (optional)" value={email} onChange={(e) => setEmail(e.target.value)} />
        <button type="submit" disabled={!name || !password}>Create user</button>
      </form>
      <table className="plain card" data-testid="users">
        <thead><tr><th>User</th><th>Role</th><th>Email</th><th>Auth</th><th>Created</th><th>Last login</th><th>Actions</th></tr></thead>
        <tbody>
          {objects(users.result).filter((u) => u.deleted_at === null).map((u) => {
            const id = String(u.user_id);
            return (
              <tr key={id} data-user={id}>
                <td>{id}</td>
                <td>
                  <select aria-label={`Role of ${id}`} value={String(u.role)} disabled={id === 'root'}
                    onChange={(e) => action.run(`ALTER USER ${id} SET ROLE ${e.target.value}`, `Change the role of ${id} to ${e.target.value}?`)}>
                    {ROLES.map((r) => <option key={r}>{r}</option>)}
                  </select>
                </td>
                <td>{u.email === null ? '' : cellText(u.email)}</td>
                <td>{cellText(u.auth_type)}</td>
                <td>{cellText(u.created_at)}</td>
                <td>{u.last_login_at === null ? '' : cellText(u.last_login_at)}</td>
                <td>
                  <button className="secondary small" aria-label={`Change password of ${id}`} onClick={() => {
                    const pw = prompt(`New password for ${id}`);
                    if (pw) void action.run(`ALTER USER ${id} SET PASSWORD ${sqlString(pw)}`);
                  }}>password</button>
                  {id !== 'root' && (
                    <button className="danger small" aria-label={`Delete ${id}`}
                      onClick={() => action.run(`DROP USER ${id}`, `Delete user ${id}?`)}>delete</button>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
