/**
 * Issue 11 #12: an empty w2.allowedOrigins accepts any Origin (R-WS-4 wants an agreement with
 * each WWSF). Friendly on loopback, but a non-loopback listener logs a clear warning at startup.
 */
import { BUILTIN_PLUGINS } from '../../../core/cli/builtin-plugins.js';
import t from 'tap';
import type { Test } from 'tap';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { resolveConfig } from '../../../core/config/index.js';
import { createEpcscfServer } from '../../../core/server/epcscf-server.js';
import { isLoopbackHost, openOriginWarning } from '../../../core/server/open-origin-warning.js';

const open = [{ path: '/sip', allowedOrigins: [] }, { path: '/jsonrpc', allowedOrigins: [] }];
const agreed = [{ path: '/sip', allowedOrigins: ['https://wwsf.example.com'] }];

t.test('issue 11 #12: loopback listeners are loopback, wildcard and routable ones are not', async (t) => {
  for (const host of ['127.0.0.1', '127.8.9.10', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1']) t.ok(isLoopbackHost(host), host);
  for (const host of ['0.0.0.0', '::', '192.0.2.10', '2001:db8::1', 'sbc.example.com', '128.0.0.1']) t.notOk(isLoopbackHost(host), host);
});

t.test('issue 11 #12: any-Origin paths on a non-loopback listener are warned about, naming the paths and the fix', async (t) => {
  const warning = openOriginWarning('0.0.0.0', open);
  t.match(warning, /0\.0\.0\.0/);
  t.match(warning, /\/sip, \/jsonrpc accept WebSocket upgrades from any Origin/);
  t.match(warning, /w2\.allowedOrigins/);
  t.equal(openOriginWarning('127.0.0.1', open), undefined, 'npm start on loopback stays quiet');
  t.equal(openOriginWarning('192.0.2.10', agreed), undefined, 'every path has an allow-list');
  t.match(openOriginWarning('192.0.2.10', [...agreed, { path: '/echo', allowedOrigins: [] }]), /\/echo accepts/, 'one open path is enough');
});

async function startupLog(t: Test, w2: Record<string, unknown>): Promise<{ level: number; msg: string }[]> {
  const lines: { level: number; msg: string }[] = [];
  const sink = new Writable({ write(chunk: Buffer, _encoding, done) { lines.push(JSON.parse(chunk.toString()) as { level: number; msg: string }); done(); } });
  const config = resolveConfig({ w2, plugins: [{ name: 'sip-ws' }] }, { configDir: process.cwd(), env: {} });
  const server = await createEpcscfServer(config, { logger: pino({ level: 'warn' }, sink), builtins: BUILTIN_PLUGINS });
  t.teardown(() => server.close());
  await server.listen();
  return lines;
}

t.test('issue 11 #12: at runtime, listening on 0.0.0.0 with no Origin list logs a pino warning; 127.0.0.1 does not', async (t) => {
  const wide = await startupLog(t, { listen: '0.0.0.0:0' });
  const warning = wide.find((line) => /any Origin/.test(line.msg));
  t.ok(warning, 'a warning is logged');
  t.equal(warning?.level, 40, 'at warn level');
  const local = await startupLog(t, { listen: '127.0.0.1:0' });
  t.equal(local.filter((line) => /any Origin/.test(line.msg)).length, 0);
  const agreedLog = await startupLog(t, { listen: '0.0.0.0:0', allowedOrigins: ['https://wwsf.example.com'] });
  t.equal(agreedLog.filter((line) => /any Origin/.test(line.msg)).length, 0, 'an allow-list silences it');
});
