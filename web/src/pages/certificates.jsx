import { useState } from 'preact/hooks';
import { del, enc, get, post, request } from '../api.js';
import { useLive } from '../live.js';
import { Confirm, ErrorNote, Field, KeyValues, Modal, Tabs, ago, formatTime, short } from '../ui.jsx';

const TABS = [
  { id: 'trusted', label: 'Trusted' },
  { id: 'issuer', label: 'Issuers' },
  { id: 'rejected', label: 'Rejected' },
];

function TrustSettings() {
  const { data } = useLive(['config'], () => get('/api/v1/trust/settings'));
  if (!data) return null;
  return (
    <p class="settings" data-testid="trust-settings">
      Validation mode <strong>{data.mode}</strong> · unknown clients{' '}
      <strong>{data.auto_reject ? 'are kept in the rejected list for approval' : 'are refused and not kept'}</strong> (auto-reject{' '}
      {data.auto_reject ? 'on' : 'off'}, at most {data.max_rejected}) · CRL {data.require_crl ? 'required' : 'optional'}
    </p>
  );
}

function Import({ onDone }) {
  const [files, setFiles] = useState([]);
  const [state, setState] = useState('trusted');
  const [result, setResult] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const lines = [];
    for (const f of files) {
      try {
        const r = await post('/api/v1/trust/certificates', { query: { state }, body: await f.arrayBuffer() });
        lines.push(`${f.name}: ${r.changed.length} imported${r.unchanged.length ? `, ${r.unchanged.length} already there` : ''}`);
      } catch (err) {
        lines.push(`${f.name}: ${err.code} ${err.message}`);
      }
    }
    setResult(lines);
    setBusy(false);
  };
  return (
    <Modal title="Import certificates" onClose={onDone}>
      <form onSubmit={submit}>
        <Field label="Certificate files (PEM, DER or bundles)">
          <input type="file" multiple required accept=".pem,.der,.crt,.cer" onChange={(e) => setFiles([...e.currentTarget.files])} />
        </Field>
        <Field label="Into the list">
          <select value={state} onChange={(e) => setState(e.currentTarget.value)}>
            <option value="trusted">Trusted</option>
            <option value="issuer">Issuers (CAs used only to build chains)</option>
          </select>
        </Field>
        <ErrorNote error={error} />
        {result && (
          <ul class="result" role="status">
            {result.map((l) => (
              <li key={l}>{l}</li>
            ))}
          </ul>
        )}
        <div class="actions">
          <button type="button" onClick={onDone}>
            Done
          </button>
          <button type="submit" class="primary" disabled={busy || files.length === 0}>
            Import {files.length > 0 ? `${files.length} file${files.length > 1 ? 's' : ''}` : ''}
          </button>
        </div>
      </form>
    </Modal>
  );
}

function Details({ thumbprint, onClose }) {
  const { data, error } = useLive(['trust'], async () => {
    const [c, all] = await Promise.all([get(`/api/v1/trust/certificates/${enc(thumbprint)}`), get('/api/v1/trust/certificates')]);
    let verdict = null;
    try {
      verdict = await request('POST', '/api/v1/trust/verify', {
        query: { policy: 'None', use: 'any' },
        body: c.pem,
        contentType: 'application/x-pem-file',
      });
    } catch {
      // the chain is a nicety; the details stand without it
    }
    return { c, verdict, all };
  }, [thumbprint]);
  const name = (tp) => {
    const hit = data && data.all.find((x) => x.thumbprint === tp);
    return hit ? `${hit.subject} (${short(tp)})` : tp;
  };
  const p = data && data.c.certificate;
  return (
    <Modal title="Certificate details" onClose={onClose} wide>
      <ErrorNote error={error} />
      {data && (
        <KeyValues
          rows={[
            ['List', data.c.state],
            ['Subject', p ? p.subject : data.c.subject],
            ['Issuer', data.c.issuer],
            ['SAN URIs', p && p.san_uris.join(', ')],
            ['SAN DNS names', p && p.san_dns.join(', ')],
            ['SAN IP addresses', p && p.san_ips.join(', ')],
            ['Valid from', formatTime(data.c.not_before)],
            ['Valid until', formatTime(data.c.not_after)],
            ['Serial', data.c.serial],
            ['SHA-1 thumbprint', <code>{data.c.thumbprint}</code>],
            ['SHA-256 thumbprint', <code>{data.c.sha256}</code>],
            ['Key', p && `${p.key.algorithm} ${p.key.bits || ''} ${p.key.curve || ''}`],
            ['Signature', p && p.signature_algorithm],
            ['Key usage', p && p.key_usage && p.key_usage.join(', ')],
            ['Extended key usage', p && p.extended_key_usage && p.extended_key_usage.join(', ')],
            ['CA', p && (p.ca ? 'yes' : 'no')],
            ['Attempts', data.c.attempts],
            ['First tried', data.c.first_attempt && formatTime(data.c.first_attempt)],
            ['Last tried', data.c.last_attempt && formatTime(data.c.last_attempt)],
            [
              'Chain',
              data.verdict && (
                <>
                  <ol class="chain">
                    {(data.verdict.chain.length ? data.verdict.chain : [data.c.thumbprint]).map((tp) => (
                      <li key={tp}>{name(tp)}</li>
                    ))}
                  </ol>
                  <small>
                    As castellan builds it now: <code>{data.verdict.status}</code> {data.verdict.message}
                  </small>
                </>
              ),
            ],
          ]}
        />
      )}
      {data && (
        <details>
          <summary>PEM</summary>
          <pre>{data.c.pem}</pre>
        </details>
      )}
    </Modal>
  );
}

export function Certificates({ me }) {
  const [tab, setTab] = useState(new URLSearchParams(window.location.search).get('list') || 'trusted');
  const [q, setQ] = useState('');
  const [dialog, setDialog] = useState(null);
  const admin = me.roles.includes('SecurityAdmin');
  const { data, error } = useLive(['trust'], () => get('/api/v1/trust/certificates'));
  const all = data || [];
  const counts = { trusted: 0, issuer: 0, rejected: 0 };
  for (const c of all) counts[c.state] += 1;
  const needle = q.trim().toLowerCase();
  const rows = all
    .filter((c) => c.state === tab)
    .filter((c) => !needle || [c.subject, c.issuer, c.thumbprint, c.application_uri].some((s) => (s || '').toLowerCase().includes(needle)))
    .sort((a, b) => (tab === 'rejected' ? (b.last_attempt || '').localeCompare(a.last_attempt || '') : a.subject.localeCompare(b.subject)));
  const select = (id) => {
    setTab(id);
    window.history.replaceState(null, '', `/certificates?list=${id}`);
  };
  const confirm = (verb, c) => {
    const text = {
      approve: ['Approve certificate', `Trust “${c.subject}”? The client may connect at its next attempt.`, 'Approve', false],
      reject: ['Reject certificate', `Move “${c.subject}” to the rejected list? Its connections are refused from now on.`, 'Reject', true],
      delete: ['Delete certificate', `Delete “${c.subject}” from the ${c.state} list? A rejected client that tries again reappears.`, 'Delete', true],
    }[verb];
    setDialog(
      <Confirm
        title={text[0]}
        message={text[1]}
        confirmLabel={text[2]}
        danger={text[3]}
        action={() =>
          verb === 'delete' ? del(`/api/v1/trust/certificates/${c.thumbprint}`) : post(`/api/v1/trust/certificates/${c.thumbprint}/${verb}`)
        }
        onDone={() => setDialog(null)}
      />,
    );
  };
  return (
    <>
      <div class="title-row">
        <h1>Client certificates</h1>
        {admin && (
          <button type="button" class="primary" onClick={() => setDialog(<Import onDone={() => setDialog(null)} />)}>
            Import…
          </button>
        )}
      </div>
      <TrustSettings />
      {/* Lists change by themselves: say so to screen readers, politely. */}
      <p class="sr-only" aria-live="polite">
        {data ? `${counts.rejected} rejected, ${counts.trusted} trusted, ${counts.issuer} issuer certificates` : ''}
      </p>
      <Tabs label="Trust lists" tabs={TABS.map((t) => ({ ...t, count: counts[t.id] }))} current={tab} onSelect={select} />
      <section role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`}>
        <div class="filters">
          <Field label="Search">
            <input type="search" value={q} placeholder="subject, issuer, URI or thumbprint" onInput={(e) => setQ(e.currentTarget.value)} />
          </Field>
        </div>
        <ErrorNote error={error} />
        <table data-testid={`certs-${tab}`}>
          <thead>
            <tr>
              <th scope="col">Subject</th>
              <th scope="col">ApplicationUri</th>
              <th scope="col">Valid until</th>
              <th scope="col">Thumbprint</th>
              {tab === 'rejected' && <th scope="col">Last tried</th>}
              {tab === 'rejected' && <th scope="col">Attempts</th>}
              <th scope="col">
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.length === 0 && (
              <tr>
                <td colSpan={7} class="muted">
                  {data ? 'No certificates in this list.' : 'Loading…'}
                </td>
              </tr>
            )}
            {rows.map((c) => (
              <tr key={c.thumbprint} data-thumbprint={c.thumbprint}>
                <td>{c.subject}</td>
                <td>{c.application_uri}</td>
                <td>{formatTime(c.not_after)}</td>
                <td>
                  <code title={c.thumbprint}>{short(c.thumbprint)}</code>
                </td>
                {tab === 'rejected' && <td title={formatTime(c.last_attempt)}>{ago(c.last_attempt)}</td>}
                {tab === 'rejected' && <td>{c.attempts}</td>}
                <td class="row-actions">
                  <button type="button" onClick={() => setDialog(<Details thumbprint={c.thumbprint} onClose={() => setDialog(null)} />)}>
                    Details<span class="sr-only"> of {c.subject}</span>
                  </button>
                  {admin && c.state === 'rejected' && (
                    <button type="button" class="primary" onClick={() => confirm('approve', c)}>
                      Approve<span class="sr-only"> {c.subject}</span>
                    </button>
                  )}
                  {admin && c.state !== 'rejected' && (
                    <button type="button" onClick={() => confirm('reject', c)}>
                      Reject<span class="sr-only"> {c.subject}</span>
                    </button>
                  )}
                  {admin && (
                    <button type="button" class="danger" onClick={() => confirm('delete', c)}>
                      Delete<span class="sr-only"> {c.subject}</span>
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      {dialog}
    </>
  );
}
