// Config `ut` (TS 24.623 Ut): off by default, carrier defaults, the XCAP root checked as an http(s) URI.
import t from 'tap';
import { resolveConfig } from '../../../core/config/index.js';

const noEnv = { configDir: '/', env: {} };

t.test('ut: off without xcapRoot; defaults 5000 ms, 64 KiB, /ut, digest pass-through', async (t) => {
  t.same(resolveConfig(null, noEnv).ut, { timeoutMs: 5000, maxBodyBytes: 65536, restPath: '/ut', passDigestToXcap: true });
  const on = resolveConfig({ ut: { xcapRoot: 'http://xcap.ims.test:8080/xcap-root', timeoutMs: 2000 } }, noEnv).ut;
  t.equal(on.xcapRoot?.href, 'http://xcap.ims.test:8080/xcap-root');
  t.equal(on.timeoutMs, 2000);
});

t.test('ut: an XCAP root that is not an http(s) URI, a query in it, or a bad restPath is EPC_ERR_CONFIG_INVALID', async (t) => {
  for (const ut of [{ xcapRoot: 'ftp://x/' }, { xcapRoot: 'http://x/root?a=1' }, { restPath: 'ut' }, { restPath: '/u t' }, { timeoutMs: 10 }, { unknown: 1 }]) {
    t.throws(() => resolveConfig({ ut }, noEnv), { code: 'EPC_ERR_CONFIG_INVALID' }, JSON.stringify(ut));
  }
});
