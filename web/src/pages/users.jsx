import { useState } from 'preact/hooks';
import { del, enc, get, post, put } from '../api.js';
import { useLive } from '../live.js';
import { Confirm, ErrorNote, Field, Modal, Tabs, formatTime } from '../ui.jsx';

// The assignable roles, loaded by the picker itself: a dialog opened before the page's own
// lists arrive must not show an empty choice.
function RolePicker({ value, onChange, legend }) {
  const { data, error } = useLive([], () => get('/api/v1/roles'));
  const roles = (data || []).filter((r) => r.assignable);
  return (
    <fieldset class="roles">
      <legend>{legend}</legend>
      {!data && !error && <span class="muted">Loading…</span>}
      <ErrorNote error={error} />
      {roles.map((r) => (
        <label key={r.name} title={r.description}>
          <input
            type="checkbox"
            checked={value.includes(r.name)}
            onChange={(e) => onChange(e.currentTarget.checked ? [...value, r.name] : value.filter((x) => x !== r.name))}
          />{' '}
          {r.name}
        </label>
      ))}
    </fieldset>
  );
}

function UserForm({ user, onDone }) {
  const [name, setName] = useState(user ? user.name : '');
  const [password, setPassword] = useState('');
  const [picked, setPicked] = useState(user ? user.roles : ['Observer']);
  const [error, setError] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    try {
      if (!user) {
        await post('/api/v1/users', { json: { name, password, roles: picked } });
      } else {
        await put(`/api/v1/users/${enc(user.name)}/roles`, { roles: picked });
        if (password) await put(`/api/v1/users/${enc(user.name)}/password`, { password });
      }
      onDone();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <Modal title={user ? `Edit ${user.name}` : 'Add user'} onClose={onDone}>
      <form onSubmit={submit}>
        {!user && (
          <Field label="User name">
            <input required value={name} onInput={(e) => setName(e.currentTarget.value)} />
          </Field>
        )}
        <Field label={user ? 'New password (leave empty to keep)' : 'Password'} hint="at least 8 characters">
          <input type="password" autocomplete="new-password" required={!user} value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
        </Field>
        <RolePicker value={picked} onChange={setPicked} legend="Roles" />
        <ErrorNote error={error} />
        <div class="actions">
          <button type="button" onClick={onDone}>
            Cancel
          </button>
          <button type="submit" class="primary">
            {user ? 'Save' : 'Add user'}
          </button>
        </div>
      </form>
    </Modal>
  );
}

function TokenForm({ me, onDone }) {
  const users = useLive(['user'], () => get('/api/v1/users')).data || [{ name: me.name }];
  const [user, setUser] = useState(me.name);
  const [picked, setPicked] = useState(['Observer']);
  const [expires, setExpires] = useState('30d');
  const [description, setDescription] = useState('');
  const [created, setCreated] = useState(null);
  const [error, setError] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    try {
      setCreated(await post('/api/v1/tokens', { json: { user, roles: picked, expires_in: expires, description } }));
    } catch (err) {
      setError(err);
    }
  };
  return (
    <Modal title="Create API token" onClose={onDone}>
      {created ? (
        <>
          <p>
            The token, shown <strong>once</strong>: castellan keeps only its hash. Send it as <code>Authorization: Bearer …</code>
          </p>
          <pre class="secret" tabIndex={0}>
            {created.token}
          </pre>
          <div class="actions">
            <button type="button" class="primary" onClick={onDone}>
              Done
            </button>
          </div>
        </>
      ) : (
        <form onSubmit={submit}>
          <Field label="Acts as user">
            <select value={user} onChange={(e) => setUser(e.currentTarget.value)}>
              {users.map((u) => (
                <option key={u.name}>{u.name}</option>
              ))}
            </select>
          </Field>
          <RolePicker value={picked} onChange={setPicked} legend="Roles (the user must hold each)" />
          <Field label="Expires in" hint="3600s, 90m, 12h, 30d, 2w, 1y">
            <input required value={expires} onInput={(e) => setExpires(e.currentTarget.value)} />
          </Field>
          <Field label="Description">
            <input value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
          </Field>
          <ErrorNote error={error} />
          <div class="actions">
            <button type="button" onClick={onDone}>
              Cancel
            </button>
            <button type="submit" class="primary">
              Create token
            </button>
          </div>
        </form>
      )}
    </Modal>
  );
}

export function Users({ me }) {
  const [tab, setTab] = useState('users');
  const [dialog, setDialog] = useState(null);
  const users = useLive(['user'], () => get('/api/v1/users'));
  const tokens = useLive(['user'], () => get('/api/v1/tokens'));
  const roles = useLive([], () => get('/api/v1/roles'));
  const close = () => setDialog(null);
  return (
    <>
      <div class="title-row">
        <h1>Users, roles and API tokens</h1>
        {tab === 'users' && (
          <button type="button" class="primary" onClick={() => setDialog(<UserForm onDone={close} />)}>
            Add user…
          </button>
        )}
        {tab === 'tokens' && (
          <button
            type="button"
            class="primary"
            onClick={() => setDialog(<TokenForm me={me} onDone={close} />)}
          >
            Create token…
          </button>
        )}
      </div>
      <Tabs
        label="Users and tokens"
        tabs={[
          { id: 'users', label: 'Users' },
          { id: 'roles', label: 'Roles' },
          { id: 'tokens', label: 'API tokens' },
        ]}
        current={tab}
        onSelect={setTab}
      />
      <section role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`}>
        <ErrorNote error={users.error || tokens.error || roles.error} />
        {tab === 'users' && (
          <table>
            <thead>
              <tr>
                <th scope="col">User</th>
                <th scope="col">Roles</th>
                <th scope="col">Created</th>
                <th scope="col">Last login</th>
                <th scope="col">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {(users.data || []).map((u) => (
                <tr key={u.name}>
                  <td>{u.name}</td>
                  <td>{u.roles.join(', ') || <span class="muted">none</span>}</td>
                  <td>{formatTime(u.created_at)}</td>
                  <td>{formatTime(u.last_login)}</td>
                  <td class="row-actions">
                    <button type="button" onClick={() => setDialog(<UserForm user={u} onDone={close} />)}>
                      Edit<span class="sr-only"> {u.name}</span>
                    </button>
                    <button
                      type="button"
                      class="danger"
                      onClick={() =>
                        setDialog(
                          <Confirm
                            title="Remove user"
                            message={`Remove ${u.name}? Their API tokens stop working at once.`}
                            confirmLabel="Remove"
                            danger
                            action={() => del(`/api/v1/users/${enc(u.name)}`)}
                            onDone={close}
                          />,
                        )
                      }
                    >
                      Remove<span class="sr-only"> {u.name}</span>
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {tab === 'roles' && (
          <table>
            <thead>
              <tr>
                <th scope="col">Role</th>
                <th scope="col">What it may do</th>
                <th scope="col">Assignable</th>
              </tr>
            </thead>
            <tbody>
              {(roles.data || []).map((r) => (
                <tr key={r.name}>
                  <td>{r.name}</td>
                  <td>{r.description}</td>
                  <td>{r.assignable ? 'yes' : 'no (implicit)'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {tab === 'tokens' && (
          <table>
            <thead>
              <tr>
                <th scope="col">ID</th>
                <th scope="col">User</th>
                <th scope="col">Roles</th>
                <th scope="col">Description</th>
                <th scope="col">Expires</th>
                <th scope="col">State</th>
                <th scope="col">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {(tokens.data || []).map((t) => (
                <tr key={t.id}>
                  <td>
                    <code>{t.id}</code>
                  </td>
                  <td>{t.user}</td>
                  <td>{t.roles.join(', ')}</td>
                  <td>{t.description}</td>
                  <td>{formatTime(t.expires_at)}</td>
                  <td>
                    <span class={`status ${t.state === 'active' ? 'activated' : 'revoked'}`}>{t.state}</span>
                  </td>
                  <td class="row-actions">
                    {t.state === 'active' && (
                      <button
                        type="button"
                        class="danger"
                        onClick={() =>
                          setDialog(
                            <Confirm
                              title="Revoke API token"
                              message={`Revoke token ${t.id} of ${t.user}? Whatever uses it is refused from now on.`}
                              confirmLabel="Revoke"
                              danger
                              action={() => del(`/api/v1/tokens/${enc(t.id)}`)}
                              onDone={close}
                            />,
                          )
                        }
                      >
                        Revoke<span class="sr-only"> token {t.id}</span>
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      {dialog}
    </>
  );
}
