// The admin API as the console uses it. The session token lives in sessionStorage: it belongs
// to this tab, leaves with it, and travels only in the Authorization header (no cookie, so no
// cross-site request can use it).
const TOKEN_KEY = 'castellan.session';

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

let onUnauthorized = () => {};
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

export function sessionToken() {
  return sessionStorage.getItem(TOKEN_KEY);
}

async function parse(res) {
  const type = res.headers.get('content-type') || '';
  const body = type.includes('application/json') ? await res.json() : await res.text();
  if (!res.ok) {
    const e = body && body.error ? body.error : { code: `HTTP ${res.status}`, message: String(body).slice(0, 200) };
    throw new ApiError(res.status, e.code, e.message);
  }
  return body;
}

// request('GET', '/api/v1/devices', { query: {status: 'revoked'} }) → parsed JSON.
export async function request(method, path, { query, json, body, contentType, auth } = {}) {
  const url = new URL(path, window.location.origin);
  for (const [k, v] of Object.entries(query || {})) {
    if (v !== undefined && v !== null && v !== '' && v !== false) url.searchParams.set(k, String(v));
  }
  const headers = {};
  const token = sessionToken();
  if (auth) headers.Authorization = auth;
  else if (token) headers.Authorization = `Bearer ${token}`;
  let payload;
  if (json !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(json);
  } else if (body !== undefined) {
    headers['Content-Type'] = contentType || 'application/octet-stream';
    payload = body;
  }
  const res = await fetch(url, { method, headers, body: payload, cache: 'no-store' });
  if (res.status === 401 && !auth) onUnauthorized();
  return parse(res);
}

export const get = (path, query) => request('GET', path, { query });
export const post = (path, opts) => request('POST', path, opts);
export const del = (path) => request('DELETE', path);
export const put = (path, json) => request('PUT', path, { json });

// Logs in with the user name and password once; the console then holds an 8-hour API token.
export async function login(name, password) {
  const basic = btoa(String.fromCharCode(...new TextEncoder().encode(`${name}:${password}`)));
  const session = await request('POST', '/api/v1/session', { auth: `Basic ${basic}` });
  sessionStorage.setItem(TOKEN_KEY, session.token);
  return session;
}

export async function logout() {
  try {
    if (sessionToken()) await request('DELETE', '/api/v1/session');
  } finally {
    sessionStorage.removeItem(TOKEN_KEY);
  }
}

export function forgetSession() {
  sessionStorage.removeItem(TOKEN_KEY);
}

export const enc = encodeURIComponent;
