import { http, registerUser } from './support/harness';
import { describeOnEachBackend } from './support/node-fixture';

// Sessions across tabs and devices (issue 9, item 4): a refresh token rotated away moments ago returns the
// current pair (two tabs, or a lost answer, never sign the user out), an older one is reuse and revokes the
// session; "sign out everywhere"; a password change signs out every other session.

type Tokens = { accessToken: string; refreshToken: string };

describeOnEachBackend('sessions', {}, (node) => {
  const refresh = (refreshToken: string) => http<Tokens & { error?: { code: string } }>(node.url, 'POST', '/api/auth/refresh', { body: { refreshToken } });
  const me = (accessToken: string) => http(node.url, 'GET', '/api/me', { token: accessToken });
  const login = (username: string, password: string) => http<Tokens>(node.url, 'POST', '/api/auth/login', { body: { username, password } });

  test('the token rotated away moments ago gets the current pair; an older one revokes the session', async () => {
    const user = await registerUser(node);
    const first = await refresh(user.refreshToken); // generation 0 → 1
    expect(first.status).toBe(200);
    // A second tab presents the generation-0 token it read before: it gets generation 1, not a revocation.
    const late = await refresh(user.refreshToken);
    expect(late.status).toBe(200);
    expect(late.body.refreshToken).toBe(first.body.refreshToken);
    expect((await me(late.body.accessToken)).status).toBe(200);
    // The pair still rotates on: 1 → 2. Generation 0 is now two rotations old: reuse, the session is revoked.
    const second = await refresh(first.body.refreshToken);
    expect(second.status).toBe(200);
    expect(await refresh(user.refreshToken)).toMatchObject({ status: 401, body: { error: { code: 'UNAUTHORIZED' } } });
    expect((await refresh(second.body.refreshToken)).status).toBe(401);
    expect((await me(second.body.accessToken)).status).toBe(401);
  });

  test('sign out everywhere revokes every session of the user, and only theirs', async () => {
    const user = await registerUser(node);
    const other = await registerUser(node);
    const phone = await login(user.user.username, user.password);
    expect((await http(node.url, 'POST', '/api/auth/logout-everywhere', { token: user.accessToken })).status).toBe(204);
    for (const tokens of [user, phone.body]) {
      expect((await refresh(tokens.refreshToken)).status).toBe(401);
      expect((await me(tokens.accessToken)).status).toBe(401);
    }
    expect((await me(other.accessToken)).status).toBe(200);
  });

  test('a password change needs the current password and signs out every other session', async () => {
    const user = await registerUser(node);
    const laptop = await login(user.user.username, user.password);
    const change = (currentPassword: string) =>
      http<{ error?: { code: string } }>(node.url, 'POST', '/api/auth/password', { token: user.accessToken, body: { currentPassword, newPassword: 'a brand new password' } });
    expect(await change('not my password')).toMatchObject({ status: 403, body: { error: { code: 'FORBIDDEN' } } });
    const laptopNow = await refresh(laptop.body.refreshToken); // nothing changed: the laptop is still in
    expect(laptopNow.status).toBe(200);
    expect((await change(user.password)).status).toBe(204);
    expect((await refresh(laptopNow.body.refreshToken)).status).toBe(401);
    expect((await me(laptopNow.body.accessToken)).status).toBe(401);
    // This session goes on; the others are signed out; the new password is the one that works.
    expect((await me(user.accessToken)).status).toBe(200);
    expect((await refresh(user.refreshToken)).status).toBe(200);
    expect((await login(user.user.username, user.password)).status).toBe(401);
    expect((await login(user.user.username, 'a brand new password')).status).toBe(200);
  });
});
