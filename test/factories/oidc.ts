/**
 * The browser side of an OpenID Connect flow, for any test: follows an authorization URL through the login
 * and consent pages (approving) to the redirect back to the client, in a cookie jar that keeps the session.
 *
 *   const jar = new CookieJar();
 *   const callback = await browse(t, jar, user, authorizationUrl);     // URL with code, state, iss
 */
import { sql } from '../../src/database/sql';
import type { TestApp } from '../helpers/test-app';
import { CookieJar, csrfTokenOf, getWithJar, postFormWithJar, requestIdOf } from './authorize';

export const OIDC_SCOPE = 'openid profile email';

/** Follows `url` (an /oauth/authorize URL) to the client's redirect; signs in and approves when asked. */
export async function browse(
  t: TestApp,
  jar: CookieJar,
  user: { username: string; password: string },
  url: URL | string,
): Promise<URL> {
  const target = typeof url === 'string' ? new URL(url, t.url) : url;
  let res = await getWithJar(t, jar, target.pathname + target.search);
  let location = res.headers.location as string;
  if (location?.startsWith('/login')) {
    // the login page as linked (with prompt=login it shows the form even to a signed-in user)
    const page = await getWithJar(t, jar, location);
    res = await postFormWithJar(t, jar, '/login', {
      _csrf: csrfTokenOf(page.text),
      username: user.username,
      password: user.password,
      request: requestIdOf(location),
    });
    location = res.headers.location as string;
  }
  if (location?.startsWith('/consent')) {
    const requestId = requestIdOf(location);
    res = await getWithJar(t, jar, location);
    if (res.status === 200)
      res = await postFormWithJar(t, jar, '/consent', {
        _csrf: csrfTokenOf(res.text),
        request: requestId,
        decision: 'approve',
      });
    location = res.headers.location as string;
  }
  if (res.status !== 302)
    throw new Error(`expected a redirect, got ${res.status}: ${res.text?.slice(0, 300)}`);
  return new URL(location);
}

/** Gives a user a profile (what the admin API sets), for claims tests. */
export async function setProfile(
  t: TestApp,
  userId: string,
  profile: { name?: string | null; email?: string | null; emailVerified?: boolean },
): Promise<void> {
  await sql(
    t.dataSource,
    `UPDATE users SET name = $2, email = $3, email_verified = $4, updated_at = now() WHERE id = $1`,
    [userId, profile.name ?? null, profile.email ?? null, profile.emailVerified ?? false],
  );
}
