import { get } from '../api.js';
import { useLive } from '../live.js';
import { ErrorNote, daysLeft, formatTime } from '../ui.jsx';

const EDGE_NAMES = {
  opcua_channels: 'OPC UA secure channels',
  opcua_sessions: 'OPC UA sessions',
  device_mtls: 'Device mTLS connections',
  admin_https: 'Admin HTTPS connections',
};

// Certificates expiring in the next `days` days on a time axis: one mark per certificate,
// stacked when several fall on the same day. Drawn by hand: a few lines of SVG.
function ExpiryTimeline({ items, days }) {
  const width = 900;
  const left = 24;
  const right = width - 24;
  const perDay = {};
  const marks = items.map((it) => {
    const d = Math.max(daysLeft(it.not_after), 0);
    const stack = (perDay[d] = (perDay[d] || 0) + 1) - 1;
    return { ...it, d, stack };
  });
  // As tall as the highest stack of marks needs, no taller.
  const highest = Math.max(0, ...marks.map((m) => m.stack));
  const axisY = 34 + highest * 18;
  const height = axisY + 30;
  const x = (d) => left + ((right - left) * Math.min(Math.max(d, 0), days)) / days;
  const ticks = [0, 7, 14, 21, 30].filter((t) => t <= days);
  return (
    <figure class="timeline">
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-labelledby="timeline-title timeline-desc">
        <title id="timeline-title">Certificates expiring in the next {days} days</title>
        <desc id="timeline-desc">
          {marks.length === 0 ? 'None.' : marks.map((m) => `${m.name} in ${m.d} days`).join('; ')}
        </desc>
        <line x1={left} x2={right} y1={axisY} y2={axisY} class="axis" />
        {ticks.map((t) => (
          <g key={t}>
            <line x1={x(t)} x2={x(t)} y1={axisY} y2={axisY + 6} class="axis" />
            <text x={x(t)} y={axisY + 20} text-anchor="middle" class="tick">
              {t === 0 ? 'today' : `${t} d`}
            </text>
          </g>
        ))}
        {marks.map((m) => (
          <g key={`${m.kind}-${m.id}`} class={m.d <= 7 ? 'mark soon' : 'mark'}>
            <circle cx={x(m.d)} cy={axisY - 12 - m.stack * 18} r="7">
              <title>{`${m.kind === 'device' ? 'Device' : 'Certificate'} ${m.name} (${m.state}) expires ${formatTime(m.not_after)}`}</title>
            </circle>
          </g>
        ))}
      </svg>
      <figcaption>
        {marks.length === 0 ? 'Nothing expires in the next 30 days.' : `${marks.length} expiring; red: within 7 days.`}
      </figcaption>
    </figure>
  );
}

export function Dashboard({ me, navigate }) {
  const { data, error } = useLive(['*'], () => get('/api/v1/dashboard'));
  if (!data) return <>{error ? <ErrorNote error={error} /> : <p class="loading">Loading…</p>}</>;
  const r = data.rejections_last_hour;
  const max = Math.max(1, ...r.by_code.map((c) => c.count));
  return (
    <>
      <h1>Dashboard</h1>
      <ErrorNote error={error} />
      <div class="cards">
        <section class="card" aria-labelledby="conn-h">
          <h2 id="conn-h">Connections now</h2>
          <dl class="numbers">
            {Object.entries(data.connections).map(([k, v]) => (
              <div key={k}>
                <dt>{EDGE_NAMES[k] || k}</dt>
                <dd data-testid={`conn-${k}`}>{v}</dd>
              </div>
            ))}
          </dl>
        </section>
        <section class="card" aria-labelledby="rej-h">
          <h2 id="rej-h">Rejections in the last hour</h2>
          <p class="big" data-testid="rejections-total">{r.total}</p>
          {r.by_code.length > 0 && (
            <table class="bars">
              <caption class="sr-only">Rejections by StatusCode</caption>
              <thead>
                <tr>
                  <th scope="col">StatusCode</th>
                  <th scope="col">Count</th>
                </tr>
              </thead>
              <tbody>
                {r.by_code.map((c) => (
                  <tr key={c.code}>
                    <th scope="row">
                      <code>{c.code}</code>
                    </th>
                    <td>
                      <span class="bar" style={{ width: `${(100 * c.count) / max}%` }} />
                      {c.count}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
        <section class="card" aria-labelledby="tok-h">
          <h2 id="tok-h">Tokens</h2>
          <dl class="numbers">
            <div>
              <dt>API tokens in force</dt>
              <dd>{data.tokens.api_tokens_active}</dd>
            </div>
            <div>
              <dt>Access tokens issued (24 h)</dt>
              <dd data-testid="access-tokens-issued">{data.tokens.access_tokens_issued_24h}</dd>
            </div>
            <div>
              <dt>Access token requests refused (24 h)</dt>
              <dd>{data.tokens.access_token_requests_refused_24h}</dd>
            </div>
            {me.roles.includes('SecurityAdmin') && (
              <a
                href="/audit?action=authz.access_token"
                onClick={(e) => {
                  e.preventDefault();
                  navigate('/audit?action=authz.access_token');
                }}
              >
                Recent token requests
              </a>
            )}
          </dl>
        </section>
      </div>
      <section class="card" aria-labelledby="exp-h">
        <h2 id="exp-h">Expiring within {data.expiring.days} days</h2>
        <ExpiryTimeline items={data.expiring.items} days={data.expiring.days} />
        {data.expiring.items.length > 0 && (
          <table>
            <thead>
              <tr>
                <th scope="col">What</th>
                <th scope="col">Name</th>
                <th scope="col">State</th>
                <th scope="col">Expires</th>
              </tr>
            </thead>
            <tbody>
              {data.expiring.items.map((it) => (
                <tr key={`${it.kind}-${it.id}`}>
                  <td>{it.kind}</td>
                  <td>{it.name}</td>
                  <td>{it.state}</td>
                  <td>
                    {formatTime(it.not_after)} ({daysLeft(it.not_after)} d)
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </>
  );
}
