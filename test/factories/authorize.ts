/**
 * Helpers for the browser-facing authorization flow, for any test file (tokens, audit, abuse …):
 *
 *   const client = await createClient(t, PUBLIC_CLIENT);        // from ./clients: public, loopback redirect URI
 *   const { verifier, challenge } = pkcePair();                 // from ./pkce
 *   const { code } = await loginAndConsent(t, { clientId: client.clientId, redirectUri: client.redirectUri,
 *                                              challenge, state: 'xyz' });
 *   // POST /oauth/token grant_type=authorization_code&code&redirect_uri&code_verifier=verifier&client_id
 *
 * Cookies are handled by hand (CookieJar): supertest does not keep them between requests.
 */
import request from 'supertest';
import type { TestApp } from '../helpers/test-app';
import { createUser, type TestUser } from './users';

export { createUser, type TestUser } from './users';

export class CookieJar {
  private readonly cookies = new Map<string, string>();

  /** Stores the cookies of a response; returns the raw Set-Cookie lines (for attribute checks). */
  store(res: { headers: Record<string, unknown> }): string[] {
    const raw = res.headers['set-cookie'];
    const lines = Array.isArray(raw) ? (raw as string[]) : typeof raw === 'string' ? [raw] : [];
    for (const line of lines) {
      const [pair] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = /expires=Thu, 01 Jan 1970/i.test(line) || /max-age=0\b/i.test(line) || value === '';
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return lines;
  }

  get(name: string): string | undefined {
    return this.cookies.get(name);
  }

  set(name: string, value: string): void {
    this.cookies.set(name, value);
  }

  delete(name: string): void {
    this.cookies.delete(name);
  }

  /** The Cookie request header. */
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

/** The hidden CSRF token of the form in an HTML page. */
export function csrfTokenOf(html: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!m) throw new Error(`no CSRF token in page:\n${html.slice(0, 500)}`);
  return m[1];
}

/** The pending request id carried by /login?request=… or /consent?request=… */
export function requestIdOf(location: string): string {
  const id = new URL(location, 'http://x').searchParams.get('request');
  if (!id) throw new Error(`no request id in ${location}`);
  return id;
}

export interface AuthorizeParams {
  clientId?: string;
  redirectUri?: string;
  scope?: string;
  challenge?: string;
  state?: string;
  responseType?: string;
  method?: string;
}

/** `/oauth/authorize?…` with response_type=code and code_challenge_method=S256 unless overridden (null = omit). */
export function authorizePath(params: Record<string, string | null | undefined>): string {
  const q = new URLSearchParams();
  const defaults = { response_type: 'code', code_challenge_method: 'S256' };
  for (const [k, v] of Object.entries({ ...defaults, ...params }))
    if (v !== null && v !== undefined) q.append(k, v);
  return `/oauth/authorize?${q.toString()}`;
}

/** GET with the jar's cookies, no redirect following; stores the response's cookies. */
export async function getWithJar(t: TestApp, jar: CookieJar, path: string) {
  const res = await request(t.url).get(path).set('Cookie', jar.header()).redirects(0);
  jar.store(res);
  return res;
}

/** POST a form with the jar's cookies, no redirect following; stores the response's cookies. */
export async function postFormWithJar(
  t: TestApp,
  jar: CookieJar,
  path: string,
  form: Record<string, string>,
) {
  const res = await request(t.url)
    .post(path)
    .set('Cookie', jar.header())
    .type('form')
    .send(form)
    .redirects(0);
  jar.store(res);
  return res;
}

/** Signs in through the login form (GET /login for the CSRF token, then POST). Returns the POST response. */
export async function login(
  t: TestApp,
  jar: CookieJar,
  user: { username: string; password: string },
  requestId?: string,
) {
  const page = await getWithJar(t, jar, requestId ? `/login?request=${requestId}` : '/login');
  const form: Record<string, string> = {
    _csrf: csrfTokenOf(page.text),
    username: user.username,
    password: user.password,
  };
  if (requestId) form.request = requestId;
  return postFormWithJar(t, jar, '/login', form);
}

export interface LoginAndConsentOptions {
  clientId: string;
  redirectUri: string;
  /** PKCE S256 challenge (see pkcePair) */
  challenge: string;
  scope?: string;
  state?: string;
  /** sign in as this user (default: a new user is created) */
  user?: TestUser;
  /** reuse a browser: its session skips the login (and remembered consent skips the consent page) */
  jar?: CookieJar;
}

export interface LoginAndConsentResult {
  /** the authorization code from the redirect */
  code: string;
  /** the browser's cookies after the flow (session, CSRF) */
  cookies: CookieJar;
  /** the full redirect back to the client (code, state, iss) */
  location: string;
  user: TestUser;
}

/**
 * The whole browser side of the authorization code flow over HTTP: GET /oauth/authorize, sign in if there
 * is no session, approve the consent page if it is shown, and return the code from the final 302 to the
 * redirect URI. Throws with the response when a step does not go as expected.
 */
export async function loginAndConsent(t: TestApp, o: LoginAndConsentOptions): Promise<LoginAndConsentResult> {
  const jar = o.jar ?? new CookieJar();
  const user = o.user ?? (await createUser(t));
  let res = await getWithJar(
    t,
    jar,
    authorizePath({
      client_id: o.clientId,
      redirect_uri: o.redirectUri,
      scope: o.scope,
      code_challenge: o.challenge,
      state: o.state,
    }),
  );
  const fail = (step: string): never => {
    throw new Error(
      `${step}: HTTP ${res.status} ${res.headers.location ?? ''}\n${String(res.text).slice(0, 400)}`,
    );
  };
  if (res.status !== 302) fail('authorize');
  let location = res.headers.location as string;
  if (location.startsWith('/login')) {
    res = await login(t, jar, user, requestIdOf(location));
    if (res.status !== 302) fail('login');
    location = res.headers.location as string;
  }
  if (location.startsWith('/consent')) {
    const requestId = requestIdOf(location);
    res = await getWithJar(t, jar, location);
    if (res.status === 200) {
      res = await postFormWithJar(t, jar, '/consent', {
        _csrf: csrfTokenOf(res.text),
        request: requestId,
        decision: 'approve',
      });
    }
    if (res.status !== 302) fail('consent');
    location = res.headers.location as string;
  }
  const code = new URL(location).searchParams.get('code');
  if (!code) fail('redirect without code');
  return { code: code as string, cookies: jar, location, user };
}
