import { useState } from 'preact/hooks';
import { get } from '../api.js';
import { useLive } from '../live.js';
import { ErrorNote, Field, formatTime } from '../ui.jsx';

const EMPTY = { since: '', until: '', actor: '', action: '', target: '', result: '' };

// The filter a link may carry: /audit?action=authz.access_token
function fromUrl() {
  const q = new URLSearchParams(window.location.search);
  const f = { ...EMPTY };
  for (const k of Object.keys(EMPTY)) f[k] = q.get(k) || '';
  return f;
}

export function Audit() {
  const [form, setForm] = useState(fromUrl);
  const [filter, setFilter] = useState(fromUrl);
  // Older pages, appended below the live first page as the user asks for them.
  const [older, setOlder] = useState([]);
  const [next, setNext] = useState(null);
  const [error, setError] = useState(null);
  const first = useLive(['*'], () => get('/api/v1/audit', { ...filter, limit: 100 }), [filter]);
  const set = (k) => (e) => setForm({ ...form, [k]: e.currentTarget.value });
  const apply = (e) => {
    e.preventDefault();
    setOlder([]);
    setNext(null);
    setFilter({ ...form });
  };
  const cursor = older.length ? next : first.data && first.data.next;
  const more = async () => {
    try {
      const page = await get('/api/v1/audit', { ...filter, limit: 100, after: cursor });
      setOlder([...older, ...page.items]);
      setNext(page.next);
    } catch (e) {
      setError(e);
    }
  };
  const items = [...(first.data ? first.data.items : []), ...older];
  return (
    <>
      <h1>Audit log</h1>
      <form class="filters" onSubmit={apply} aria-label="Filter the audit log">
        <Field label="Since">
          <input type="date" value={form.since} onInput={set('since')} />
        </Field>
        <Field label="Until">
          <input type="date" value={form.until} onInput={set('until')} />
        </Field>
        <Field label="Actor" hint="exact">
          <input value={form.actor} onInput={set('actor')} />
        </Field>
        <Field label="Action" hint="prefix: trust., user.login">
          <input value={form.action} onInput={set('action')} />
        </Field>
        <Field label="Target" hint="exact: thumbprint, user">
          <input value={form.target} onInput={set('target')} />
        </Field>
        <Field label="Result" hint="Good, BadCertificateUntrusted…">
          <input value={form.result} onInput={set('result')} />
        </Field>
        <div class="filter-buttons">
          <button type="submit" class="primary">
            Filter
          </button>
          <button
            type="button"
            onClick={() => {
              setForm(EMPTY);
              setFilter(EMPTY);
              setOlder([]);
            }}
          >
            Clear
          </button>
        </div>
      </form>
      <ErrorNote error={first.error || error} />
      <table data-testid="audit">
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Actor</th>
            <th scope="col">From</th>
            <th scope="col">Action</th>
            <th scope="col">Target</th>
            <th scope="col">Result</th>
            <th scope="col">Detail</th>
          </tr>
        </thead>
        <tbody>
          {items.map((a) => (
            <tr key={a.id}>
              <td class="nowrap">{formatTime(a.time)}</td>
              <td>{a.actor}</td>
              <td>{a.source}</td>
              <td>
                <code>{a.action}</code>
              </td>
              <td class="target">{a.target}</td>
              <td class={a.result === 'Good' ? 'good' : 'bad'}>{a.result}</td>
              <td>{a.detail}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {cursor && (
        <div class="pager">
          <button type="button" onClick={more}>
            Older records
          </button>
        </div>
      )}
    </>
  );
}
