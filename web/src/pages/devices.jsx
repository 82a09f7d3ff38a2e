import { useState } from 'preact/hooks';
import { del, enc, get, post } from '../api.js';
import { useLive } from '../live.js';
import { Confirm, ErrorNote, Field, KeyValues, Modal, Tabs, daysLeft, formatTime, short } from '../ui.jsx';

const STATUSES = ['activated', 'not-activated', 'registered-not-activated', 'revoked'];
const EMPTY = { serial: '', ou: '', cn: '', status: '', effective_from: '', effective_to: '', expires_from: '', expires_to: '', expiry: '' };
const PAGE = 50;

function DeviceDetails({ id, onClose }) {
  const { data, error } = useLive(['registry'], () => get(`/api/v1/devices/${enc(id)}`), [id]);
  return (
    <Modal title="Device certificate" onClose={onClose} wide>
      <ErrorNote error={error} />
      {data && (
        <>
          <KeyValues
            rows={[
              ['Status', <span class={`status ${data.status}`}>{data.status}</span>],
              ['Common name', data.common_name],
              ['Organizational unit', data.organizational_unit],
              ['Organization', data.organization],
              ['Serial', data.serial],
              ['Client ID', data.effective_client_id + (data.client_id ? '' : ' (from the CN)')],
              ['Issuing CA', <code>{data.ca_id}</code>],
              ['Registration', data.registration],
              ['Valid from', formatTime(data.not_before)],
              ['Valid until', formatTime(data.not_after)],
              ['Registered', formatTime(data.registered_at)],
              ['Status changed', formatTime(data.status_changed_at)],
              ['SHA-1 thumbprint', <code>{data.id}</code>],
              ['SHA-256 thumbprint', <code>{data.sha256}</code>],
            ]}
          />
          <h3>Clients seen with this certificate</h3>
          {data.clients.length === 0 ? (
            <p class="muted">None yet.</p>
          ) : (
            <table>
              <thead>
                <tr>
                  <th scope="col">Client ID</th>
                  <th scope="col">Edge</th>
                  <th scope="col">From</th>
                  <th scope="col">First seen</th>
                  <th scope="col">Last seen</th>
                  <th scope="col">Connections</th>
                </tr>
              </thead>
              <tbody>
                {data.clients.map((c) => (
                  <tr key={`${c.client_id}-${c.edge}`}>
                    <td>{c.client_id}</td>
                    <td>{c.edge}</td>
                    <td>{c.remote_address}</td>
                    <td>{formatTime(c.first_seen)}</td>
                    <td>{formatTime(c.last_seen)}</td>
                    <td>{c.connections}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </Modal>
  );
}

function DeviceList({ admin }) {
  const [form, setForm] = useState(EMPTY);
  const [filter, setFilter] = useState(EMPTY);
  const [offset, setOffset] = useState(0);
  const [dialog, setDialog] = useState(null);
  const query = () => {
    const q = { ...filter, limit: PAGE, offset, sort: 'auto' };
    delete q.expiry;
    if (filter.expiry === 'expired') q.expired = 'true';
    if (filter.expiry === 'soon') q.expiring_within = 30;
    return q;
  };
  const { data, error } = useLive(['registry'], () => get('/api/v1/devices', query()), [filter, offset]);
  const set = (k) => (e) => setForm({ ...form, [k]: e.currentTarget.value });
  const apply = (e) => {
    e.preventDefault();
    setOffset(0);
    setFilter({ ...form });
  };
  const clear = () => {
    setForm(EMPTY);
    setFilter(EMPTY);
    setOffset(0);
  };
  const act = (verb, d) => {
    const text = {
      activate: ['Activate device', `Let “${d.common_name}” connect?`, 'Activate', false],
      deactivate: ['Deactivate device', `Refuse “${d.common_name}” until it is activated again? Open connections are closed.`, 'Deactivate', true],
      revoke: [
        'Revoke device certificate',
        `Revoke “${d.common_name}” (${short(d.id)})? This is final: a revoked certificate can never be activated again, and the device is refused at every edge from now on.`,
        'Revoke for good',
        true,
      ],
      delete: ['Delete device certificate', `Delete “${d.common_name}” from the registry? A device of a registered CA may register itself again.`, 'Delete', true],
    }[verb];
    setDialog(
      <Confirm
        title={text[0]}
        message={text[1]}
        confirmLabel={text[2]}
        danger={text[3]}
        action={() => (verb === 'delete' ? del(`/api/v1/devices/${d.id}`) : post(`/api/v1/devices/${d.id}/${verb}`))}
        onDone={() => setDialog(null)}
      />,
    );
  };
  const total = data ? data.total : 0;
  return (
    <>
      <form class="filters" onSubmit={apply} aria-label="Filter devices">
        <Field label="Serial number">
          <input value={form.serial} onInput={set('serial')} placeholder="hex" />
        </Field>
        <Field label="OU">
          <input value={form.ou} onInput={set('ou')} />
        </Field>
        <Field label="CN" hint="a trailing * matches a prefix">
          <input value={form.cn} onInput={set('cn')} />
        </Field>
        <Field label="Status">
          <select value={form.status} onChange={set('status')} name="status">
            <option value="">any</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Expiry">
          <select value={form.expiry} onChange={set('expiry')} name="expiry">
            <option value="">any</option>
            <option value="expired">expired</option>
            <option value="soon">within 30 days</option>
          </select>
        </Field>
        <Field label="Effective from">
          <input type="date" value={form.effective_from} onInput={set('effective_from')} />
        </Field>
        <Field label="Effective to">
          <input type="date" value={form.effective_to} onInput={set('effective_to')} />
        </Field>
        <Field label="Expires from">
          <input type="date" value={form.expires_from} onInput={set('expires_from')} />
        </Field>
        <Field label="Expires to">
          <input type="date" value={form.expires_to} onInput={set('expires_to')} />
        </Field>
        <div class="filter-buttons">
          <button type="submit" class="primary">
            Filter
          </button>
          <button type="button" onClick={clear}>
            Clear
          </button>
        </div>
      </form>
      <ErrorNote error={error} />
      <p class="muted" role="status" data-testid="device-total">
        {data ? `${total}${data.total_exact ? '' : '+'} device certificate${total === 1 ? '' : 's'}` : 'Loading…'}
      </p>
      <table data-testid="devices">
        <thead>
          <tr>
            <th scope="col">Status</th>
            <th scope="col">CN</th>
            <th scope="col">OU</th>
            <th scope="col">Serial</th>
            <th scope="col">Client ID</th>
            <th scope="col">Valid from</th>
            <th scope="col">Valid until</th>
            <th scope="col">
              <span class="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {data &&
            data.items.map((d) => {
              const left = daysLeft(d.not_after);
              return (
                <tr key={d.id} data-device={d.id}>
                  <td>
                    <span class={`status ${d.status}`}>{d.status}</span>
                  </td>
                  <td class="nowrap">{d.common_name}</td>
                  <td class="nowrap">{d.organizational_unit}</td>
                  <td class="serial">
                    <code>{d.serial}</code>
                  </td>
                  <td class="nowrap">{d.effective_client_id}</td>
                  <td class="nowrap">{formatTime(d.not_before)}</td>
                  <td class={`nowrap ${left < 0 ? 'expired' : left <= 30 ? 'soon' : ''}`}>
                    {formatTime(d.not_after)}
                    {left < 0 ? ' (expired)' : left <= 30 ? ` (${left} d)` : ''}
                  </td>
                  <td class="row-actions">
                    <button type="button" onClick={() => setDialog(<DeviceDetails id={d.id} onClose={() => setDialog(null)} />)}>
                      Details<span class="sr-only"> of {d.common_name}</span>
                    </button>
                    {admin && d.status !== 'activated' && d.status !== 'revoked' && (
                      <button type="button" onClick={() => act('activate', d)}>
                        Activate<span class="sr-only"> {d.common_name}</span>
                      </button>
                    )}
                    {admin && d.status === 'activated' && (
                      <button type="button" onClick={() => act('deactivate', d)}>
                        Deactivate<span class="sr-only"> {d.common_name}</span>
                      </button>
                    )}
                    {admin && d.status !== 'revoked' && (
                      <button type="button" class="danger" onClick={() => act('revoke', d)}>
                        Revoke<span class="sr-only"> {d.common_name}</span>
                      </button>
                    )}
                    {admin && d.status !== 'activated' && (
                      <button type="button" class="danger" onClick={() => act('delete', d)}>
                        Delete<span class="sr-only"> {d.common_name}</span>
                      </button>
                    )}
                  </td>
                </tr>
              );
            })}
        </tbody>
      </table>
      {data && total > PAGE && (
        <div class="pager">
          <button type="button" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
            Previous
          </button>
          <span>
            {offset + 1}–{Math.min(offset + PAGE, total)} of {total}
          </span>
          <button type="button" disabled={offset + PAGE >= total} onClick={() => setOffset(offset + PAGE)}>
            Next
          </button>
        </div>
      )}
      {dialog}
    </>
  );
}

function CaList({ admin }) {
  const { data, error } = useLive(['registry'], () => get('/api/v1/cas'));
  const [dialog, setDialog] = useState(null);
  const toggle = (ca) =>
    setDialog(
      <Confirm
        title={ca.active ? 'Deactivate CA' : 'Activate CA'}
        message={
          ca.active
            ? `Refuse every device issued by “${ca.common_name}” until the CA is activated again?`
            : `Let devices issued by “${ca.common_name}” connect again?`
        }
        confirmLabel={ca.active ? 'Deactivate' : 'Activate'}
        danger={ca.active}
        action={() => post(`/api/v1/cas/${ca.id}/${ca.active ? 'deactivate' : 'activate'}`)}
        onDone={() => setDialog(null)}
      />,
    );
  return (
    <>
      <ErrorNote error={error} />
      <table data-testid="cas">
        <thead>
          <tr>
            <th scope="col">CA</th>
            <th scope="col">State</th>
            <th scope="col">Auto-registration</th>
            <th scope="col">Needs approval</th>
            <th scope="col">Proof of possession</th>
            <th scope="col">Valid until</th>
            <th scope="col">ID</th>
            <th scope="col">
              <span class="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {data && data.length === 0 && (
            <tr>
              <td colSpan={8} class="muted">
                No CA registered. <code>castellan ca register CA.pem</code> or POST /api/v1/cas.
              </td>
            </tr>
          )}
          {(data || []).map((ca) => (
            <tr key={ca.id}>
              <td>{ca.subject}</td>
              <td>
                <span class={`status ${ca.active ? 'activated' : 'not-activated'}`}>{ca.active ? 'active' : 'inactive'}</span>
              </td>
              <td>{ca.auto_registration ? 'yes' : 'no'}</td>
              <td>{ca.require_approval ? 'yes' : 'no'}</td>
              <td>{ca.verified ? 'verified' : 'not verified'}</td>
              <td>{formatTime(ca.not_after)}</td>
              <td>
                <code title={ca.id}>{short(ca.id)}</code>
              </td>
              <td class="row-actions">
                {admin && (
                  <button type="button" onClick={() => toggle(ca)}>
                    {ca.active ? 'Deactivate' : 'Activate'}
                    <span class="sr-only"> {ca.common_name}</span>
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {dialog}
    </>
  );
}

export function Devices({ me }) {
  const [tab, setTab] = useState('devices');
  const admin = me.roles.includes('SecurityAdmin');
  return (
    <>
      <h1>Device registry</h1>
      <Tabs
        label="Registry"
        tabs={[
          { id: 'devices', label: 'Device certificates' },
          { id: 'cas', label: 'CA certificates' },
        ]}
        current={tab}
        onSelect={setTab}
      />
      <section role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`}>
        {tab === 'devices' ? <DeviceList admin={admin} /> : <CaList admin={admin} />}
      </section>
    </>
  );
}
