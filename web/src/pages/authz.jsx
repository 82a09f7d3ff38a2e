// The authorization service (OPC UA Part 12 §9): the AuthorizationService objects castellan
// offers, the identity mapping rules (Part 18) that decide which roles an AccessToken carries,
// the refresh tokens issued, and the recent token requests — all live: every decision and
// change writes an authz.* audit record, which bumps the "authz" area.
import { useState } from 'preact/hooks';
import { del, enc, get, post } from '../api.js';
import { useLive } from '../live.js';
import { Confirm, ErrorNote, Field, Modal, Tabs, ago, formatTime, short } from '../ui.jsx';

// IdentityCriteriaType (Part 18) with what its criteria text holds; null: it takes none.
const CRITERIA = [
  { type: 'UserName', value: 'a user name', example: 'alice' },
  { type: 'Thumbprint', value: 'a user certificate SHA-1 thumbprint', example: '3F2A…' },
  { type: 'Role', value: "a role castellan's users database gives", example: 'SecurityAdmin' },
  { type: 'GroupId', value: "a group of an identity provider's token", example: 'operators' },
  { type: 'Anonymous', value: null },
  { type: 'AuthenticatedUser', value: null },
  { type: 'Application', value: 'an ApplicationUri', example: 'urn:plant:hmi7' },
  { type: 'X509Subject', value: 'a certificate subject', example: 'CN=bob, O=Plant' },
  { type: 'TrustedApplication', value: 'an ApplicationUri (optional: empty matches any trusted application)', optional: true },
];

function lifetime(seconds) {
  if (seconds % 86400 === 0) return `${seconds / 86400} d`;
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

function RuleForm({ onDone }) {
  const [role, setRole] = useState('');
  const [type, setType] = useState('UserName');
  const [criteria, setCriteria] = useState('');
  const [error, setError] = useState(null);
  const kind = CRITERIA.find((c) => c.type === type);
  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    try {
      await post('/api/v1/authz/rules', { json: kind.value ? { role, criteria_type: type, criteria } : { role, criteria_type: type } });
      onDone();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <Modal title="Add identity mapping rule" onClose={onDone}>
      <form onSubmit={submit}>
        <Field label="Role granted" hint="a network role: Operator, Engineer, … (AccessTokenRequestor lets the identity ask for tokens)">
          <input required value={role} onInput={(e) => setRole(e.currentTarget.value)} />
        </Field>
        <Field label="Criteria type">
          <select value={type} onChange={(e) => setType(e.currentTarget.value)}>
            {CRITERIA.map((c) => (
              <option key={c.type}>{c.type}</option>
            ))}
          </select>
        </Field>
        {kind.value ? (
          <Field label="Criteria" hint={kind.value}>
            <input required={!kind.optional} value={criteria} placeholder={kind.example || ''} onInput={(e) => setCriteria(e.currentTarget.value)} />
          </Field>
        ) : (
          <p class="muted">{type} matches without a value.</p>
        )}
        <ErrorNote error={error} />
        <div class="actions">
          <button type="button" onClick={onDone}>
            Cancel
          </button>
          <button type="submit" class="primary">
            Add rule
          </button>
        </div>
      </form>
    </Modal>
  );
}

function Services({ services }) {
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">ServiceUri</th>
          <th scope="col">Algorithm</th>
          <th scope="col">Token lifetime</th>
          <th scope="col">Resources</th>
          <th scope="col">Certificate</th>
        </tr>
      </thead>
      <tbody>
        {services.map((s) => (
          <tr key={s.name}>
            <td>{s.name}</td>
            <td>
              <code>{s.service_uri}</code>
            </td>
            <td>{s.algorithm}</td>
            <td>
              {lifetime(s.token_lifetime_s)} <span class="muted">(refresh {lifetime(s.refresh_lifetime_s)})</span>
            </td>
            <td>{s.resources.join(', ')}</td>
            <td>
              <code title={s.certificate_thumbprint || ''}>{s.certificate_thumbprint ? short(s.certificate_thumbprint) : '—'}</code>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Rules({ rules, canChange, setDialog, close }) {
  if (rules.length === 0) return <p class="muted">No rules: AccessTokens carry no roles.</p>;
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">ID</th>
          <th scope="col">Role</th>
          <th scope="col">Criteria type</th>
          <th scope="col">Criteria</th>
          <th scope="col">Added</th>
          <th scope="col">
            <span class="sr-only">Actions</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {rules.map((r) => (
          <tr key={r.id}>
            <td>{r.id}</td>
            <td>{r.role}</td>
            <td>{r.criteria_type}</td>
            <td>{r.criteria || <span class="muted">—</span>}</td>
            <td>{formatTime(r.created_at)}</td>
            <td class="row-actions">
              {canChange && (
                <button
                  type="button"
                  class="danger"
                  onClick={() =>
                    setDialog(
                      <Confirm
                        title="Remove rule"
                        message={`Remove rule ${r.id} (${r.criteria_type}${r.criteria ? ` ${r.criteria}` : ''} → ${r.role})? Tokens issued from now on no longer carry ${r.role} for these identities; refreshed tokens are re-checked.`}
                        confirmLabel="Remove"
                        danger
                        action={() => del(`/api/v1/authz/rules/${enc(r.id)}`)}
                        onDone={close}
                      />,
                    )
                  }
                >
                  Remove<span class="sr-only"> rule {r.id}</span>
                </button>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function RefreshTokens({ tokens, setDialog, close }) {
  if (tokens.length === 0) return <p class="muted">No refresh tokens issued.</p>;
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">ID</th>
          <th scope="col">Subject</th>
          <th scope="col">Application</th>
          <th scope="col">Roles</th>
          <th scope="col">Expires</th>
          <th scope="col">State</th>
          <th scope="col">
            <span class="sr-only">Actions</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {tokens.map((t) => (
          <tr key={t.id}>
            <td>
              <code>{t.id}</code>
            </td>
            <td>{t.subject}</td>
            <td>{t.client_application_uri}</td>
            <td>{t.roles.join(', ') || <span class="muted">none</span>}</td>
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
                        title="Revoke refresh token"
                        message={`Revoke refresh token ${t.id} of ${t.subject}? ${t.client_application_uri || 'The application'} must ask for a new AccessToken when the current one expires.`}
                        confirmLabel="Revoke"
                        danger
                        action={() => post('/api/v1/authz/refresh-tokens/revoke', { json: { id: t.id } })}
                        onDone={close}
                      />,
                    )
                  }
                >
                  Revoke<span class="sr-only"> refresh token {t.id}</span>
                </button>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function TokenRequests({ page }) {
  const items = page ? page.items : [];
  if (items.length === 0) return <p class="muted">No token requests yet.</p>;
  return (
    <table aria-label="Recent token requests">
      <thead>
        <tr>
          <th scope="col">When</th>
          <th scope="col">Who</th>
          <th scope="col">Application</th>
          <th scope="col">Roles asked</th>
          <th scope="col">Roles granted</th>
          <th scope="col">Result</th>
        </tr>
      </thead>
      <tbody>
        {items.map((t) => (
          <tr key={t.id}>
            <td title={formatTime(t.time)}>{ago(t.time)}</td>
            <td>{t.actor}</td>
            <td>{t.application || <span class="muted">—</span>}</td>
            <td>{t.roles_requested.join(', ') || <span class="muted">any</span>}</td>
            <td>{t.result === 'Good' ? t.roles_granted.join(', ') || <span class="muted">none</span> : <span class="muted">—</span>}</td>
            <td>
              <span class={`status ${t.result === 'Good' ? 'activated' : 'revoked'}`} title={t.result === 'Good' ? t.action : t.detail}>
                {t.result === 'Good' ? (t.action === 'authz.access_token_refreshed' ? 'refreshed' : 'issued') : t.result}
              </span>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function Authorization({ me }) {
  const [tab, setTab] = useState('requests');
  const [dialog, setDialog] = useState(null);
  const close = () => setDialog(null);
  const canChange = me.roles.includes('AuthorizationServiceAdmin');
  const services = useLive(['authz'], () => get('/api/v1/authz/services'));
  const rules = useLive(['authz'], () => get('/api/v1/authz/rules'));
  const tokens = useLive(['authz'], () => get('/api/v1/authz/refresh-tokens'));
  const requests = useLive(['authz'], () => get('/api/v1/authz/token-requests', { action: 'authz.access_token', limit: 50 }));
  return (
    <>
      <div class="title-row">
        <h1>Authorization service</h1>
        {tab === 'rules' && canChange && (
          <button type="button" class="primary" onClick={() => setDialog(<RuleForm onDone={close} />)}>
            Add rule…
          </button>
        )}
      </div>
      <Tabs
        label="Authorization service"
        tabs={[
          { id: 'requests', label: 'Recent token requests' },
          { id: 'rules', label: 'Identity mapping rules', count: rules.data ? rules.data.length : undefined },
          { id: 'refresh', label: 'Refresh tokens' },
          { id: 'services', label: 'Services', count: services.data ? services.data.length : undefined },
        ]}
        current={tab}
        onSelect={setTab}
      />
      <section role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`}>
        <ErrorNote error={services.error || rules.error || tokens.error || requests.error} />
        {tab === 'requests' && <TokenRequests page={requests.data} />}
        {tab === 'rules' && <Rules rules={rules.data || []} canChange={canChange} setDialog={setDialog} close={close} />}
        {tab === 'refresh' && <RefreshTokens tokens={tokens.data || []} setDialog={setDialog} close={close} />}
        {tab === 'services' && <Services services={services.data || []} />}
      </section>
      {dialog}
    </>
  );
}
