// The web console in a real browser: Debian's Chromium driven by playwright-core against
// `castellan serve` on loopback ports of its own, with a real OPC UA client (node-opcua) and
// real device certificates at the mTLS endpoint. What an administrator would check, in order:
// sign in (by keyboard), a client is refused and shows up in the rejected tab without a reload,
// approve it, the client connects; devices filtered by status and expiry; revoke one, it is
// refused at the mTLS edge; the dashboard counts the refusal; sign out revokes the session.
// Also: content types, caching and CSP headers, client-side routes, no CSP violations.
//
// Usage: node console_test.mjs CASTELLAN CONSOLE_DIR UA_PEER ARTIFACT_DIR
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, openSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const [castellan, consoleDir, uaPeer, artifacts] = process.argv.slice(2).map((p) => resolve(p));
if (!artifacts) {
  console.error('usage: node console_test.mjs CASTELLAN CONSOLE_DIR UA_PEER ARTIFACT_DIR');
  process.exit(2);
}
const started = Date.now();
const work = mkdtempSync(join(tmpdir(), 'castellan-console-'));
rmSync(artifacts, { recursive: true, force: true });
mkdirSync(artifacts, { recursive: true });
const PASSWORD = 'console-admin-pass-1';
const env = { ...process.env, CASTELLAN_ADMIN_PASSWORD: PASSWORD };

let passed = 0;
let failed = 0;
const ok = (what) => {
  passed += 1;
  console.log(`ok   ${what}`);
};
const bad = (what) => {
  failed += 1;
  console.log(`FAIL ${what}`);
};
const check = (cond, what) => (cond ? ok(what) : bad(what));

const cli = (...args) =>
  execFileSync(castellan, ['--data-dir', join(work, 'd'), ...args], { cwd: work, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const freePort = () =>
  new Promise((res) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// One HTTPS request to castellan (its own self-signed certificate: not verified here).
function https(port, path, { cert, key, headers, method = 'GET' } = {}) {
  return new Promise((res, rej) => {
    const req = httpsRequest(
      { host: '127.0.0.1', port, path, method, rejectUnauthorized: false, cert, key, headers },
      (r) => {
        let body = '';
        r.setEncoding('utf8');
        r.on('data', (c) => (body += c));
        r.on('end', () => res({ status: r.statusCode, headers: r.headers, body }));
      },
    );
    req.on('error', rej);
    req.end();
  });
}

// node-opcua as the OPC UA client: {"ok": true|false, ...}.
function uaConnect(url) {
  try {
    const out = execFileSync(
      'node',
      [uaPeer, 'client', 'connect', '--url', url, '--pki', join(work, 'pki-client'), '--policy', 'Basic256Sha256', '--mode', 'SignAndEncrypt'],
      { cwd: work, encoding: 'utf8', timeout: 60000, stdio: ['ignore', 'pipe', 'ignore'] },
    );
    return JSON.parse(out.trim().split('\n').pop());
  } catch (e) {
    const text = String(e.stdout || '').trim().split('\n').pop();
    try {
      return JSON.parse(text);
    } catch {
      return { ok: false, status: 'no answer', message: text };
    }
  }
}

let server;
let context;
let shot = 0;
async function screenshot(page, name) {
  shot += 1;
  const file = join(artifacts, `${String(shot).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
}

async function main() {
  // --- a castellan with a device CA and three device certificates ---------------------------
  cli('init');
  cli('ca', 'create', '--cn', 'Fleet CA');
  const issue = (cn, ou, prefix, days) => cli('cert', 'issue', '--cn', cn, '--ou', ou, '--out', join(work, prefix), '--days', String(days));
  issue('press-1', 'line-1', 'press1', 365);
  issue('press-2', 'line-2', 'press2', 10);
  issue('press-3', 'line-1', 'press3', 365);
  cli('device', 'register', join(work, 'press1.pem'));
  cli('device', 'register', join(work, 'press2.pem'));
  cli('device', 'register', join(work, 'press3.pem'), '--inactive');

  // A configured console folder that is not there is a configuration error, not a silent 404.
  let refused = '';
  try {
    cli('--set', 'admin.listen=127.0.0.1:0', '--set', 'ua.listen=off', '--set', 'device.mtls_listen=off', '--set', `admin.console=${join(work, 'nowhere')}`, 'serve');
  } catch (e) {
    refused = String(e.stderr);
  }
  check(/BadConfigurationError: admin.console: .*index.html does not exist/.test(refused), `a missing admin.console folder stops serve: ${refused.trim()}`);

  const [adminPort, uaPort, mtlsPort] = [await freePort(), await freePort(), await freePort()];
  const log = openSync(join(work, 'castellan.log'), 'w');
  server = spawn(
    castellan,
    [
      '--data-dir', join(work, 'd'),
      '--set', `admin.listen=127.0.0.1:${adminPort}`,
      '--set', `ua.listen=127.0.0.1:${uaPort}`,
      '--set', `device.mtls_listen=127.0.0.1:${mtlsPort}`,
      '--set', `admin.console=${consoleDir}`,
      '--set', 'ua.allow_anonymous=true',
      'serve',
    ],
    { cwd: work, env, stdio: ['ignore', log, log] },
  );
  for (let i = 0; i < 100; i += 1) {
    const up = await https(adminPort, '/readyz').catch(() => null);
    if (up && up.status === 200) break;
    await sleep(100);
  }
  const base = `https://127.0.0.1:${adminPort}`;
  const uaUrl = `opc.tcp://127.0.0.1:${uaPort}`;

  // --- static files: types, caching, CSP, client-side routes ----------------------------------
  const index = await https(adminPort, '/');
  check(index.status === 200 && index.headers['content-type'].startsWith('text/html'), `GET / is HTML (${index.status} ${index.headers['content-type']})`);
  const csp = index.headers['content-security-policy'] || '';
  check(/script-src 'self'/.test(csp) && !/unsafe-inline/.test(csp) && /frame-ancestors 'none'/.test(csp), `strict CSP: ${csp}`);
  check(index.headers['cache-control'] === 'no-cache', `index.html is revalidated (${index.headers['cache-control']})`);
  const scripts = [...index.body.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
  check(scripts.length > 0 && scripts.every((m) => /\bsrc="\/assets\//.test(m[1]) && m[2].trim() === '') && !/\son[a-z]+=/i.test(index.body),
    'index.html has no inline script or handler: every script is a file from /assets/');
  const js = index.body.match(/src="(\/assets\/[^"]+\.js)"/);
  const css = index.body.match(/href="(\/assets\/[^"]+\.css)"/);
  check(Boolean(js && css), 'index.html loads a hashed script and stylesheet');
  if (js && css) {
    const a = await https(adminPort, js[1]);
    check(a.status === 200 && a.headers['content-type'] === 'text/javascript; charset=utf-8', `script type: ${a.headers['content-type']}`);
    check(/max-age=31536000/.test(a.headers['cache-control']) && /immutable/.test(a.headers['cache-control']), `hashed assets cached for a year: ${a.headers['cache-control']}`);
    const c = await https(adminPort, css[1]);
    check(c.status === 200 && c.headers['content-type'] === 'text/css; charset=utf-8', `stylesheet type: ${c.headers['content-type']}`);
  }
  const route = await https(adminPort, '/devices?status=revoked');
  check(route.status === 200 && route.body === index.body, 'a client-side route (/devices) answers index.html');
  const missing = await https(adminPort, '/assets/nope-12345678.js');
  check(missing.status === 404, `a missing asset is 404, not index.html (${missing.status})`);
  const api = await https(adminPort, '/api/v1/nope');
  check(api.status === 404 && api.headers['content-type'] === 'application/json', 'unknown API paths stay JSON 404s');
  // The only absolute URLs in the bundle are XML namespace names (never fetched).
  const bundle = [index.body, js ? readFileSync(join(consoleDir, js[1]), 'utf8') : '', css ? readFileSync(join(consoleDir, css[1]), 'utf8') : ''].join('\n');
  const external = [...bundle.matchAll(/(?:https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}[^"'\s)]*/gi)].map((m) => m[0]).filter((u) => !/^http:\/\/www\.w3\.org\//.test(u));
  check(external.length === 0, `no CDN, font or other external URL in the bundle (${external.slice(0, 3).join(' ')})`);

  // --- the console's own API routes ------------------------------------------------------------
  const basic = `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}`;
  const opened = await https(adminPort, '/api/v1/session', { method: 'POST', headers: { Authorization: basic } });
  const session = JSON.parse(opened.body);
  check(opened.status === 201 && /^cst_/.test(session.token) && session.description === 'web console session', `a session opens with a password (${opened.status})`);
  const bearer = (t) => ({ Authorization: `Bearer ${t}` });
  const again = await https(adminPort, '/api/v1/session', { method: 'POST', headers: bearer(session.token) });
  check(again.status === 400, `a token cannot open another session (${again.status})`);
  cli('user', 'add', 'olga', '--role', 'Observer', '--password', 'olga-pass-123');
  const script = JSON.parse(cli('--json', 'user', 'token', 'create', 'olga', '--role', 'Observer', '--expires', '1h'));
  const notSession = await https(adminPort, '/api/v1/session', { method: 'DELETE', headers: bearer(script.token) });
  const stillWorks = await https(adminPort, '/api/v1/me', { headers: bearer(script.token) });
  check(notSession.status === 400 && stillWorks.status === 200, `logout never revokes a script's API token (${notSession.status}, then ${stillWorks.status})`);
  const c0 = JSON.parse((await https(adminPort, '/api/v1/changes', { headers: bearer(script.token) })).body);
  const quiet = JSON.parse((await https(adminPort, `/api/v1/changes?since=${c0.cursor}`, { headers: bearer(script.token) })).body);
  check(quiet.cursor === c0.cursor && quiet.areas.length === 0, `changes: nothing new, same cursor (${JSON.stringify(quiet)})`);
  cli('ca', 'registration-code'); // a registry change, made by another process
  const moved = JSON.parse((await https(adminPort, `/api/v1/changes?since=${c0.cursor}`, { headers: bearer(script.token) })).body);
  check(moved.cursor !== c0.cursor && moved.areas.includes('registry') && !moved.areas.includes('trust'), `changes: a registry change by the CLI is seen (${JSON.stringify(moved)})`);
  const settings = JSON.parse((await https(adminPort, '/api/v1/trust/settings', { headers: bearer(script.token) })).body);
  check(settings.mode === 'trusted-list' && settings.auto_reject === true && !('system_ca_file' in settings), `trust settings for an Observer: ${JSON.stringify(settings)}`);
  const dashboard = await https(adminPort, '/api/v1/dashboard', { headers: bearer(script.token) });
  const d0 = JSON.parse(dashboard.body);
  check(dashboard.status === 200 && d0.connections.opcua_channels === 0 && d0.rejections_last_hour.total === 0 && d0.expiring.items.length === 1,
    `dashboard as an Observer: ${dashboard.body.slice(0, 200)}`);
  const closed = await https(adminPort, '/api/v1/session', { method: 'DELETE', headers: bearer(session.token) });
  const gone = await https(adminPort, '/api/v1/me', { headers: bearer(session.token) });
  check(closed.status === 200 && gone.status === 401, `logout revokes the session token (${closed.status}, then ${gone.status})`);

  // --- the browser -------------------------------------------------------------------------------
  const profile = join(work, 'chromium-profile');
  context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    ignoreHTTPSErrors: true,
    viewport: { width: 1366, height: 768 },
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync',
    ],
  });
  const page = context.pages()[0] || (await context.newPage());
  const problems = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 40[13]/.test(m.text())) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(String(e)));
  page.setDefaultTimeout(15000);

  // Sign in with the keyboard only.
  await page.goto(`${base}/certificates`);
  await page.getByLabel('User name').focus();
  await page.keyboard.type('admin');
  await page.keyboard.press('Tab');
  check((await page.evaluate(() => document.activeElement.name)) === 'password', 'Tab moves from the user name to the password');
  await page.keyboard.type('wrong-password');
  await page.keyboard.press('Enter');
  await page.getByRole('alert').waitFor();
  check(/BadUserAccessDenied/.test(await page.getByRole('alert').textContent()), 'a wrong password is refused with its StatusCode');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Client certificates' }).waitFor();
  ok('signed in; the deep link /certificates opens after login');
  check(/auto-reject on/.test(await page.getByTestId('trust-settings').textContent()), 'the trust mode and auto-reject setting are shown');
  await page.evaluate(() => {
    window.__sameDocument = true; // gone after any reload
  });

  // Tabs by keyboard: ArrowRight twice from Trusted reaches Rejected.
  await page.getByRole('tab', { name: /Trusted/ }).focus();
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  check((await page.getByRole('tab', { name: /Rejected/ }).getAttribute('aria-selected')) === 'true', 'arrow keys move between tabs');
  const rejectedRows = page.getByTestId('certs-rejected').locator('tbody tr[data-thumbprint]');
  check((await rejectedRows.count()) === 0, 'the rejected list starts empty');

  // --- a real OPC UA client is refused, appears live, is approved, connects ------------------------
  const first = uaConnect(uaUrl);
  check(first.ok === false, `node-opcua is refused at first: ${first.status}`);
  const t0 = Date.now();
  await rejectedRows.first().waitFor({ timeout: 10000 });
  ok(`the refused client appears in the rejected tab without a reload (${Date.now() - t0} ms after the refusal)`);
  const row = rejectedRows.first();
  const thumbprint = await row.getAttribute('data-thumbprint');
  const cells = await row.locator('td').allTextContents();
  // subject | ApplicationUri | valid until | thumbprint | last tried | attempts | actions
  check(/ago$/.test(cells[4]) && Number(cells[5]) >= 1, `it shows when it last tried and how often: ${cells.join(' | ')}`);
  await screenshot(page, 'rejected-client');

  await row.getByRole('button', { name: /^Details/ }).click();
  const details = page.getByRole('dialog', { name: 'Certificate details' });
  await details.getByText('SHA-256 thumbprint').waitFor();
  const detailText = await details.textContent();
  check(detailText.includes(thumbprint) && /urn:/.test(detailText) && /Chain/.test(detailText), 'details: thumbprints, SAN URI and chain');
  await screenshot(page, 'certificate-details');
  await page.keyboard.press('Escape');
  await details.waitFor({ state: 'detached' });
  ok('Escape closes the details dialog');

  await row.getByRole('button', { name: /^Approve/ }).click();
  await page.getByRole('dialog', { name: 'Approve certificate' }).getByRole('button', { name: 'Approve' }).click();
  await rejectedRows.first().waitFor({ state: 'detached' });
  const listed = JSON.parse(cli('--json', 'trust', 'list', '--state', 'trusted'));
  check(listed.some((c) => c.thumbprint === thumbprint), 'approve: two clicks move it to the trusted list');
  const second = uaConnect(uaUrl);
  check(second.ok === true, `after approval node-opcua connects: ${JSON.stringify(second).slice(0, 160)}`);
  await page.getByRole('tab', { name: /Trusted/ }).click();
  await page.locator(`[data-testid=certs-trusted] tr[data-thumbprint="${thumbprint}"]`).waitFor();
  ok('the approved certificate is in the trusted tab');

  // Import two files at once into the trusted list.
  const trustedBefore = await page.locator('[data-testid=certs-trusted] tbody tr[data-thumbprint]').count();
  await page.getByRole('button', { name: 'Import…' }).click();
  const importDialog = page.getByRole('dialog', { name: 'Import certificates' });
  await importDialog.getByLabel(/Certificate files/).setInputFiles([join(work, 'press2.pem'), join(work, 'press3.pem')]);
  await importDialog.getByRole('button', { name: 'Import 2 files' }).click();
  await importDialog.getByRole('status').waitFor();
  const imported = await importDialog.getByRole('status').textContent();
  check(/press2\.pem: 1 imported/.test(imported) && /press3\.pem: 1 imported/.test(imported), `import of two files: ${imported}`);
  await importDialog.getByRole('button', { name: 'Done' }).click();
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid=certs-trusted] tbody tr[data-thumbprint]').length === n, trustedBefore + 2);
  ok('the trusted tab shows the imported certificates without a reload');

  // --- devices: filters, revoke, refused at the mTLS edge ----------------------------------------
  await page.getByRole('link', { name: 'Device registry' }).click();
  const deviceRows = page.getByTestId('devices').locator('tbody tr');
  await deviceRows.nth(2).waitFor();
  check((await deviceRows.count()) === 3, 'three device certificates listed');
  await page.getByLabel('Status').selectOption('activated');
  await page.getByRole('button', { name: 'Filter', exact: true }).click();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=devices] tbody tr').length === 2);
  const activated = await deviceRows.allTextContents();
  check(activated.every((t) => t.includes('activated') && !t.includes('not-activated')) && activated.length === 2, 'status filter: the two activated');
  await page.getByLabel('Status').selectOption('');
  await page.getByLabel('Expiry').selectOption('soon');
  await page.getByRole('button', { name: 'Filter', exact: true }).click();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=devices] tbody tr').length === 1);
  check((await deviceRows.first().textContent()).includes('press-2'), 'expiry filter: only press-2 expires within 30 days');
  await screenshot(page, 'devices-expiring');
  await page.getByRole('button', { name: 'Clear' }).click();
  await deviceRows.nth(2).waitFor();

  const press1 = readFileSync(join(work, 'press1.pem'));
  const press1Key = readFileSync(join(work, 'press1.key.pem'));
  const before = await https(mtlsPort, '/device/v1/whoami', { cert: press1, key: press1Key });
  check(before.status === 200, `press-1 is admitted at the mTLS endpoint before revocation (${before.status})`);
  const press1Row = page.getByTestId('devices').locator('tbody tr', { hasText: 'press-1' });
  await press1Row.getByRole('button', { name: /^Revoke/ }).click();
  const revokeDialog = page.getByRole('dialog', { name: 'Revoke device certificate' });
  check(/final/.test(await revokeDialog.textContent()), 'the revoke confirmation says it is final');
  await screenshot(page, 'revoke-confirmation');
  await revokeDialog.getByRole('button', { name: 'Revoke for good' }).click();
  await press1Row.getByText('revoked', { exact: true }).waitFor();
  ok('press-1 shows revoked');
  const after = await https(mtlsPort, '/device/v1/whoami', { cert: press1, key: press1Key });
  check(after.status === 403 && /Revoked/.test(after.body), `press-1 is refused at the mTLS endpoint after revocation (${after.status} ${after.body.slice(0, 120)})`);
  await press1Row.getByRole('button', { name: /^Details/ }).click();
  const deviceDialog = page.getByRole('dialog', { name: 'Device certificate' });
  await deviceDialog.getByText('Clients seen with this certificate').waitFor();
  await deviceDialog.getByRole('cell', { name: 'mtls' }).first().waitFor();
  ok('device details list the clients seen (the mTLS edge)');
  await page.keyboard.press('Escape');

  // --- dashboard, audit, users --------------------------------------------------------------------
  await page.getByRole('link', { name: 'Dashboard' }).click();
  await page.getByTestId('rejections-total').waitFor();
  const total = Number(await page.getByTestId('rejections-total').textContent());
  check(total >= 2, `the dashboard counts the refusals of the last hour (${total})`);
  const dash = await page.locator('main').textContent();
  check(/BadCertificate/.test(dash), 'refusals are broken down by StatusCode');
  check(/press-2/.test(dash) && (await page.locator('.timeline circle').count()) >= 1, 'press-2 is on the expiry timeline');
  check(Number(await page.getByTestId('conn-opcua_channels').textContent()) >= 0, 'connections now per edge');
  check((await page.getByTestId('access-tokens-issued').textContent()) === '0', 'access tokens issued (24 h) shown (none here)');
  await screenshot(page, 'dashboard');
  await page.getByRole('link', { name: 'Recent token requests' }).click();
  await page.getByRole('heading', { name: 'Audit log' }).waitFor();
  check((await page.getByLabel('Action').inputValue()) === 'authz.access_token', 'recent token requests open the audit log filtered');
  await page.getByLabel('Action').fill('');

  await page.getByRole('link', { name: 'Audit log' }).click();
  await page.getByLabel('Action').fill('registry.device.revoke');
  await page.getByRole('button', { name: 'Filter', exact: true }).click();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=audit] tbody tr').length === 1);
  check((await page.getByTestId('audit').locator('tbody tr').first().textContent()).includes('admin'), 'audit filter: the revocation, by admin');
  await screenshot(page, 'audit');

  await page.getByRole('link', { name: 'Users & tokens' }).click();
  await page.getByRole('button', { name: 'Add user…' }).click();
  const userDialog = page.getByRole('dialog', { name: 'Add user' });
  await userDialog.getByLabel('User name').fill('alice');
  await userDialog.getByLabel(/^Password/).fill('alice-pass-123');
  await userDialog.getByLabel('Operator').check();
  await userDialog.getByRole('button', { name: 'Add user' }).click();
  await page.getByRole('cell', { name: 'alice', exact: true }).waitFor();
  const alice = await page.locator('tr', { hasText: 'alice' }).textContent();
  check(/Observer, Operator/.test(alice), `a user added with two roles: ${alice}`);
  await page.getByRole('tab', { name: 'API tokens' }).click();
  await page.getByText('web console session').first().waitFor();
  ok('the console session is listed among the API tokens');
  await screenshot(page, 'tokens');

  check(await page.evaluate(() => window.__sameDocument === true), 'no page reload happened along the way');
  const token = await page.evaluate(() => sessionStorage.getItem('castellan.session'));
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByLabel('User name').waitFor();
  const stale = await https(adminPort, '/api/v1/me', { headers: { Authorization: `Bearer ${token}` } });
  check(stale.status === 401, `sign out revokes the session token (${stale.status})`);

  // An Observer reads and changes nothing: no change buttons, no audit or users pages.
  await page.getByLabel('User name').fill('olga');
  await page.getByLabel('Password').fill('olga-pass-123');
  await page.getByRole('button', { name: 'Sign in' }).click();
  // Signed out on the users page, signed in again there as someone without the role:
  await page.getByRole('alert').waitFor();
  check(/needs the role SecurityAdmin; olga holds Observer/.test(await page.getByRole('alert').textContent()), 'a page out of reach names the role it needs');
  await page.getByRole('link', { name: 'Dashboard' }).first().click();
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
  const nav = await page.getByRole('navigation', { name: 'Main' }).textContent();
  check(!/Audit log|Users/.test(nav), `an Observer sees no audit or users pages (${nav})`);
  await page.getByRole('link', { name: 'Client certificates' }).click();
  await page.locator('[data-testid=certs-trusted] tbody tr[data-thumbprint]').first().waitFor();
  const changeButtons = await page.getByRole('button', { name: /^(Import|Approve|Reject|Delete)/ }).count();
  check(changeButtons === 0, `an Observer gets no change buttons on certificates (${changeButtons})`);
  await page.getByRole('link', { name: 'Device registry' }).click();
  await page.getByTestId('devices').locator('tbody tr').first().waitFor();
  check((await page.getByRole('button', { name: /^(Revoke|Activate|Deactivate|Delete)/ }).count()) === 0, 'nor on devices');
  await screenshot(page, 'observer-devices');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByLabel('User name').waitFor();

  const csps = problems.filter((p) => /Content Security Policy|Refused to/.test(p));
  check(csps.length === 0, `no CSP violations (${csps.join(' / ')})`);
  check(problems.length === 0, `no script errors in the page (${problems.join(' / ').slice(0, 300)})`);
}

try {
  await main();
} catch (e) {
  bad(`unexpected: ${e.stack || e}`);
  if (context && context.pages()[0]) await screenshot(context.pages()[0], 'failure').catch(() => {});
} finally {
  if (context) await context.close().catch(() => {});
  if (server) {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
  }
  if (failed) {
    console.log('--- castellan.log (tail)');
    console.log(readFileSync(join(work, 'castellan.log'), 'utf8').split('\n').slice(-30).join('\n'));
  }
  writeFileSync(join(artifacts, 'result.txt'), `${passed} passed, ${failed} failed\n`);
  rmSync(work, { recursive: true, force: true });
}
console.log(`console: ${passed} passed, ${failed} failed in ${((Date.now() - started) / 1000).toFixed(1)} s; screenshots in ${artifacts}`);
process.exit(failed ? 1 : 0);
