/**
 * examples/wwsf building blocks: the guest IMPU pool (scenario 3), the login rate limit, the
 * static file paths of the WIC and the users file checks.
 */
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { GuestPool } from '../../../examples/wwsf/guest-pool.js';
import { LoginRateLimit } from '../../../examples/wwsf/login-rate-limit.js';
import { resolveStaticPath } from '../../../examples/wwsf/static-files.js';
import { UserBook, guestIdentity } from '../../../examples/wwsf/user-book.js';

t.test('scenario 3: a guest IMPU is leased for the token lifetime and free again after it', async (t) => {
  let now = 1_000;
  const pool = new GuestPool(['sip:guest1@ims.test', 'sip:guest2@ims.test'], () => now);
  t.equal(pool.lease(now + 600_000), 'sip:guest1@ims.test');
  t.equal(pool.lease(now + 600_000), 'sip:guest2@ims.test', 'a leased IMPU is not handed out twice');
  t.equal(pool.lease(now + 600_000), undefined, 'exhausted');
  t.same(pool.leased(), ['sip:guest1@ims.test', 'sip:guest2@ims.test']);
  now += 600_000;
  t.same(pool.leased(), [], 'the leases end with the tokens');
  t.equal(pool.lease(now + 600_000), 'sip:guest1@ims.test', 'reused once the token that carried it expired');
});

t.test('login rate limit: max attempts per address per window, then Retry-After until the window ends', async (t) => {
  let now = 0;
  const limit = new LoginRateLimit({ max: 2, windowSeconds: 10 }, () => now);
  t.same(limit.attempt('192.0.2.1'), { allowed: true });
  t.same(limit.attempt('192.0.2.1'), { allowed: true });
  now = 2_500;
  t.same(limit.attempt('192.0.2.1'), { allowed: false, retryAfterSeconds: 8 });
  t.same(limit.attempt('192.0.2.2'), { allowed: true }, 'other addresses have their own window');
  now = 10_000;
  t.same(limit.attempt('192.0.2.1'), { allowed: true }, 'a new window');
});

t.test('login rate limit: the tracked addresses stay bounded', async (t) => {
  const limit = new LoginRateLimit({ max: 1, windowSeconds: 60, maxTracked: 3 }, () => 0);
  for (const address of ['a', 'b', 'c', 'd']) limit.attempt(address);
  t.same(limit.attempt('a'), { allowed: true }, 'the oldest window was dropped to make room');
  t.same(limit.attempt('d'), { allowed: false, retryAfterSeconds: 60 }, 'recent windows are kept');
});

t.test('WIC files: paths resolve inside the directory only', async (t) => {
  const root = resolve('/srv/wic');
  t.equal(resolveStaticPath(root, ''), join(root, 'index.html'));
  t.equal(resolveStaticPath(root, 'app.js'), join(root, 'app.js'));
  t.equal(resolveStaticPath(root, 'assets/'), join(root, 'assets', 'index.html'));
  for (const bad of ['../etc/passwd', '%2e%2e/etc/passwd', 'a/../../b', '.env', 'x/.git/config', 'a%00b', '..%5c..%5cwin.ini', '%E0%A4%A']) {
    t.equal(resolveStaticPath(root, bad), undefined, `refused: ${bad}`);
  }
});

t.test('users file: identities in the domain; a wrong password or an unknown user gets nothing', async (t) => {
  const book = new UserBook({ domain: 'ims.test', users: [{ user: 'alice', password: 'alicepw', displayName: 'Alice' }], guestPool: [] });
  t.same(book.authenticate('alice', 'alicepw'), { impi: 'alice@ims.test', impu: 'sip:alice@ims.test', displayName: 'Alice' });
  t.equal(book.authenticate('alice', 'alicepw '), undefined);
  t.equal(book.authenticate('mallory', 'alicepw'), undefined);
  t.same(guestIdentity('sip:guest3@ims.test'), { impi: 'guest3@ims.test', impu: 'sip:guest3@ims.test', displayName: 'Guest (guest3)' });
});

t.test('users file: the shipped one has alice, bob, carol and guest1..5; a broken one names the problem', async (t) => {
  const shipped = await UserBook.load();
  t.same(shipped.users.map((u) => u.user), ['alice', 'bob', 'carol']);
  t.same(shipped.guestPool, [1, 2, 3, 4, 5].map((n) => `sip:guest${n}@ims.test`));
  await t.rejects(UserBook.load('/nonexistent/users.json'), { code: 'EPC_ERR_CONFIG_INVALID', message: /cannot read the WWSF users file/ });
  const dir = mkdtempSync(join(tmpdir(), 'wwsf-users-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const write = (content: object): string => {
    const file = join(dir, `users-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(file, JSON.stringify(content));
    return file;
  };
  await t.rejects(UserBook.load(write({ domain: 'ims.test', users: [{ user: 'guest', password: 'x', displayName: 'G' }] })), { message: /users\[0\]: "guest" is the scenario 3 login/ });
  await t.rejects(UserBook.load(write({ domain: 'ims.test', users: [{ user: 'dave' }] })), { message: /users\[0\]: expected \{ user, password, displayName \}/ });
  await t.rejects(UserBook.load(write({ domain: 'ims.test', users: [], guestPool: ['guest1@ims.test'] })), { message: /guestPool: expected a list of sip: or tel: URIs/ });
});
