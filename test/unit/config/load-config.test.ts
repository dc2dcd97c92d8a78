import t, { type Test } from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configPathFromArgs, loadConfigFile, parseHostPort, parseMwListen, resolveConfig } from '../../../core/config/index.js';

const noEnv = { configDir: '/etc/epcscf', env: {} };

function scratch(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'epcscf-config-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test('issue keys: an empty config gets the documented defaults (sip-ws on /sip and jsonrpc-ws on /jsonrpc, dev IMS core without mw.nextHop)', async (t) => {
  const config = resolveConfig(null, noEnv);
  t.same(config.w2.listen, { host: '127.0.0.1', port: 8080 });
  t.same(config.w2.allowedOrigins, []);
  t.equal(config.w2.tls, undefined);
  t.equal(config.w2.maxFrameBytes, 65536);
  t.equal(config.w2.pingIntervalMs, 25_000, 'R-WS-10: ping every 25 s');
  t.same(config.plugins, [{ name: 'sip-ws' }, { name: 'jsonrpc-ws' }]);
  t.same(config.mw.listen, [{ transport: 'udp', host: '127.0.0.1', port: 5060 }]);
  t.equal(config.mw.nextHop, undefined);
  t.equal(config.mw.useDevCore, true);
  t.equal(config.mw.domain, 'ims.test');
  t.equal(config.mw.visitedNetworkId, 'epcscf.test');
  t.equal(config.log.level, 'info');
});

t.test('issue example: YAML file with w2, plugins and mw keys; several mw.listen points; paths relative to the file', async (t) => {
  const dir = scratch(t);
  const file = join(dir, 'epcscf.yaml');
  writeFileSync(file, [
    'w2:',
    '  listen: "[::1]:8443"',
    '  allowedOrigins: [https://wwsf.example.com]',
    '  tls: { cert: certs/w2.pem, key: certs/w2.key }',
    'plugins:',
    '  - name: sip-ws',
    '  - name: ./my-plugin.js',
    '    options: { greeting: hi }',
    'mw:',
    '  listen: [udp:127.0.0.1:5060, tcp:127.0.0.1:5060, tls:127.0.0.1:5061]',
    '  tls: { cert: /abs/mw.pem, key: mw.key }',
    '  nextHop: sip:127.0.0.1:5070;transport=udp',
    '  domain: ims.example.net',
    '  visitedNetworkId: visited.example.net',
  ].join('\n'));
  const config = await loadConfigFile(file, { env: {} });
  t.equal(config.configDir, dir);
  t.same(config.w2.listen, { host: '::1', port: 8443 }, 'IPv6 keeps no brackets');
  t.same(config.w2.tls, { cert: join(dir, 'certs/w2.pem'), key: join(dir, 'certs/w2.key') });
  t.same(config.plugins, [{ name: 'sip-ws' }, { name: './my-plugin.js', options: { greeting: 'hi' } }]);
  t.same(config.mw.listen.map((l) => l.transport), ['udp', 'tcp', 'tls']);
  t.same(config.mw.listen[2], { transport: 'tls', host: '127.0.0.1', port: 5061 });
  t.same(config.mw.tls, { cert: '/abs/mw.pem', key: join(dir, 'mw.key') });
  t.equal(config.mw.nextHop, 'sip:127.0.0.1:5070;transport=udp');
  t.equal(config.mw.useDevCore, false);
});

t.test('JSON config files are read as JSON; shorthands: one mw.listen string, bare plugin names', async (t) => {
  const dir = scratch(t);
  const file = join(dir, 'epcscf.json');
  writeFileSync(file, JSON.stringify({ mw: { listen: 'tcp:10.0.0.1:5060' }, plugins: ['sip-ws', './echo.js'] }));
  const config = await loadConfigFile(file, { env: {} });
  t.same(config.mw.listen, [{ transport: 'tcp', host: '10.0.0.1', port: 5060 }]);
  t.same(config.plugins, [{ name: 'sip-ws' }, { name: './echo.js' }]);
});

t.test('validation errors name the bad key path, with the value that was given', async (t) => {
  const cases: Array<[unknown, RegExp]> = [
    [{ mw: { listen: ['sctp:1.2.3.4:5060'] } }, /^config: mw\.listen\[0\]: expected transport:host:port with transport udp, tcp or tls.* \(got "sctp:1\.2\.3\.4:5060"\)$/m],
    [{ mw: { listen: ['udp:127.0.0.1:5060', 'udp:1.2.3.4:99999'] } }, /^config: mw\.listen\[1\]: expected transport:host:port with a port in 0\.\.65535/m],
    [{ w2: { listne: '1.2.3.4:80' } }, /^config: w2\.listne: unknown key$/m],
    [{ w2: { listen: 'localhost' } }, /^config: w2\.listen: expected host:port/m],
    [{ w2: { tls: { cert: 'a.pem' } } }, /^config: w2\.tls\.key: is required$/m],
    [{ w2: { maxFrameBytes: 'big' } }, /^config: w2\.maxFrameBytes: must be integer \(got "big"\)$/m],
    [{ plugins: [{ options: {} }] }, /^config: plugins\[0\]\.name: is required$/m],
    [{ plugins: [{ name: 'x', path: 'nope' }] }, /^config: plugins\[0\]\.path: expected a URL path/m],
    [{ mw: { nextHop: 'http://x' } }, /^config: mw\.nextHop: expected a SIP URI/m],
    [{ mw: { nextHop: 'sip:' } }, /^config: mw\.nextHop: not a valid SIP URI/m],
    [{ mw: { listen: ['tls:0.0.0.0:5061'] } }, /^config: mw\.tls: is required when mw\.listen has a tls: entry/m],
    [{ log: { level: 'loud' } }, /^config: log\.level: must be equal to one of the allowed values/m],
    [[1, 2], /^config: \(root\): must be a mapping/m],
  ];
  for (const [raw, expected] of cases) {
    t.throws(() => resolveConfig(raw, noEnv), { code: 'EPC_ERR_CONFIG_INVALID', message: expected }, JSON.stringify(raw));
  }
});

t.test('every bad key is reported at once, prefixed with the file name', async (t) => {
  const dir = scratch(t);
  const file = join(dir, 'bad.yaml');
  writeFileSync(file, 'w2:\n  listen: 5\n  colour: red\nmw:\n  domain: "not a domain"\n');
  const error = await loadConfigFile(file, { env: {} }).catch((e: unknown) => e as Error);
  t.match(error, { code: 'EPC_ERR_CONFIG_INVALID' });
  const lines = (error as Error).message.split('\n');
  t.equal(lines.length, 3, (error as Error).message);
  t.ok(lines.every((line) => line.startsWith(`${file}: `)));
  t.match((error as Error).message, /w2\.listen: must be string/);
  t.match((error as Error).message, /w2\.colour: unknown key/);
  t.match((error as Error).message, /mw\.domain: expected a home network domain name/);
});

t.test('unreadable or unparsable files fail with EPC_ERR_CONFIG_INVALID', async (t) => {
  const dir = scratch(t);
  await t.rejects(loadConfigFile(join(dir, 'missing.yaml'), { env: {} }), { code: 'EPC_ERR_CONFIG_INVALID', message: /cannot read the config file/ });
  writeFileSync(join(dir, 'broken.yaml'), 'w2: [unclosed\n');
  await t.rejects(loadConfigFile(join(dir, 'broken.yaml'), { env: {} }), { code: 'EPC_ERR_CONFIG_INVALID', message: /not valid YAML/ });
  writeFileSync(join(dir, 'broken.json'), '{"w2": ');
  await t.rejects(loadConfigFile(join(dir, 'broken.json'), { env: {} }), { code: 'EPC_ERR_CONFIG_INVALID', message: /not valid JSON/ });
});

t.test('environment variables override keys and are validated like the file', async (t) => {
  const env = {
    EPCSCF_W2_LISTEN: '0.0.0.0:9090',
    EPCSCF_W2_ALLOWED_ORIGINS: 'https://a.test, https://b.test',
    EPCSCF_MW_LISTEN: 'udp:0.0.0.0:5060,tcp:0.0.0.0:5060',
    EPCSCF_MW_NEXTHOP: 'sip:192.0.2.10:5060',
    EPCSCF_MW_DOMAIN: 'ims.env.test',
    EPCSCF_W2_PING_INTERVAL_SECONDS: '0',
    EPCSCF_LOG_LEVEL: 'debug',
    UNRELATED: 'x',
  };
  const config = resolveConfig({ w2: { listen: '127.0.0.1:8080' }, mw: { nextHop: 'sip:1.1.1.1' } }, { configDir: '/', env });
  t.same(config.w2.listen, { host: '0.0.0.0', port: 9090 }, 'env wins over the file');
  t.same(config.w2.allowedOrigins, ['https://a.test', 'https://b.test']);
  t.same(config.mw.listen.map((l) => `${l.transport}:${l.port}`), ['udp:5060', 'tcp:5060']);
  t.equal(config.mw.nextHop, 'sip:192.0.2.10:5060');
  t.equal(config.mw.domain, 'ims.env.test');
  t.equal(config.w2.pingIntervalMs, 0);
  t.equal(config.log.level, 'debug');
  const devCore = resolveConfig({ mw: { nextHop: 'sip:1.1.1.1' } }, { configDir: '/', env: { EPCSCF_MW_NEXTHOP: '' } });
  t.equal(devCore.mw.useDevCore, true, 'an empty EPCSCF_MW_NEXTHOP selects the dev IMS core');
  t.throws(() => resolveConfig({}, { configDir: '/', env: { EPCSCF_W2_MAX_FRAME_BYTES: 'lots' } }), {
    code: 'EPC_ERR_CONFIG_INVALID',
    message: 'config: w2.maxFrameBytes: must be integer (got "lots") (set by EPCSCF_W2_MAX_FRAME_BYTES)',
  });
  t.throws(() => resolveConfig({}, { configDir: '/', env: { EPCSCF_MW_LISTEN: 'udp:x' } }), {
    message: /mw\.listen\[0\]: .* \(set by EPCSCF_MW_LISTEN\)$/,
  });
});

t.test('issue 11: every w2.limits key has an environment override, validated like the file', async (t) => {
  const defaults = resolveConfig(null, { configDir: '/', env: {} }).w2.limits;
  t.equal(defaults.maxPendingTransactionsPerConnection, 64, 'documented default');
  t.equal(defaults.maxRegistrationsPerIp, 100, 'documented default');
  const env = {
    EPCSCF_W2_MAX_CONNECTIONS: '5000',
    EPCSCF_W2_MAX_CONNECTIONS_PER_IP: '50',
    EPCSCF_W2_UPGRADE_TIMEOUT_SECONDS: '5',
    EPCSCF_W2_FIRST_FRAME_TIMEOUT_SECONDS: '15',
    EPCSCF_W2_CLOSE_TIMEOUT_SECONDS: '1.5',
    EPCSCF_W2_MAX_CALLS_PER_CLIENT: '4',
    EPCSCF_W2_MAX_CALLS_PER_IP: '40',
    EPCSCF_W2_MAX_PENDING_TRANSACTIONS_PER_CONNECTION: '32',
    EPCSCF_W2_MAX_REGISTRATIONS_PER_IP: '20',
    EPCSCF_W2_REGISTRATIONS_PER_SECOND_PER_CLIENT: '0.5',
    EPCSCF_W2_REGISTRATIONS_PER_SECOND_PER_IP: '25',
    EPCSCF_W2_CALLS_PER_SECOND_PER_CLIENT: '2',
    EPCSCF_W2_CALLS_PER_SECOND_PER_IP: '10',
    EPCSCF_W2_BYTES_PER_SECOND_PER_CONNECTION: '32768',
    EPCSCF_W2_FRAMES_PER_SECOND_PER_IP: '250',
    EPCSCF_W2_FRAMES_PER_SECOND_PER_CONNECTION: '20',
    EPCSCF_W2_CONNECTIONS_PER_SECOND_PER_IP: '5',
  };
  const limits = resolveConfig({ w2: { limits: { maxConnections: 1, maxRegistrationsPerIp: 7 } } }, { configDir: '/', env }).w2.limits;
  t.same(limits, {
    maxConnections: 5000, maxConnectionsPerIp: 50, upgradeTimeoutMs: 5000, firstFrameTimeoutMs: 15000, closeTimeoutMs: 1500,
    maxCallsPerClient: 4, maxCallsPerIp: 40, maxPendingTransactionsPerConnection: 32, maxRegistrationsPerIp: 20,
    // Issue 15: the rates keep their schema bursts.
    registrationRatePerClient: { ratePerSecond: 0.5, burst: 10 }, registrationRatePerIp: { ratePerSecond: 25, burst: 200 },
    callRatePerClient: { ratePerSecond: 2, burst: 20 }, callRatePerIp: { ratePerSecond: 10, burst: 100 },
    bytesPerConnection: { ratePerSecond: 32768, burst: 524288 }, framesPerIp: { ratePerSecond: 250, burst: 2000 },
    framesPerConnection: { ratePerSecond: 20, burst: 100 }, connectionRatePerIp: { ratePerSecond: 5, burst: 100 },
    sustainedFlood: { afterMs: 3000, framesPerSecond: 5 },
  }, 'env wins over the file for every limit');
  t.throws(() => resolveConfig({}, { configDir: '/', env: { EPCSCF_W2_MAX_REGISTRATIONS_PER_IP: '0' } }), {
    code: 'EPC_ERR_CONFIG_INVALID',
    message: /w2\.limits\.maxRegistrationsPerIp: .* \(set by EPCSCF_W2_MAX_REGISTRATIONS_PER_IP\)$/,
  });
});

t.test('listen strings: host:port with bracketed IPv6, transport prefix for Mw', async (t) => {
  t.same(parseHostPort('127.0.0.1:0'), { host: '127.0.0.1', port: 0 });
  t.same(parseHostPort('[fd00::2]:5060'), { host: 'fd00::2', port: 5060 });
  t.equal(parseHostPort('fd00::2:5060'), undefined, 'bare IPv6 is ambiguous');
  t.equal(parseHostPort(':80'), undefined);
  t.equal(parseHostPort('host:65536'), undefined);
  t.same(parseMwListen('tls:[::1]:5061'), { transport: 'tls', host: '::1', port: 5061 });
  t.equal(parseMwListen('ws:1.2.3.4:80'), undefined, 'W2 transports are not Mw listening points');
});

t.test('CLI: epcscf --config FILE', async (t) => {
  t.equal(configPathFromArgs(['--config', 'a.yaml']), 'a.yaml');
  t.equal(configPathFromArgs(['--config=b.json']), 'b.json');
  t.equal(configPathFromArgs(['-c', 'c.yaml']), 'c.yaml');
  t.equal(configPathFromArgs([]), undefined);
  t.throws(() => configPathFromArgs(['--config']), { code: 'EPC_ERR_CONFIG_INVALID' });
  t.throws(() => configPathFromArgs(['--config', '--verbose']), { code: 'EPC_ERR_CONFIG_INVALID' });
});

t.test('media keys (issue #4): defaults, the ng gateway address, port ranges checked', async (t) => {
  const defaults = resolveConfig(null, noEnv).media;
  t.equal(defaults.mode, 'in-process', 'our media-gw runs in-process unless told otherwise');
  t.same(defaults.gateway.webrtc, { host: '127.0.0.1', ports: { min: 40000, max: 44999 } });
  t.same(defaults.gateway.ims, { host: '127.0.0.1', ports: { min: 45000, max: 49999 } });
  t.equal(defaults.gateway.maxCalls, 1000);
  t.equal(defaults.gateway.idleTimeoutSeconds, 60);
  t.equal(defaults.gateway.relayWorkers, 0, 'relays run in the main thread unless told otherwise');

  const ng = resolveConfig({ media: { mode: 'ng', ng: { address: '127.0.0.1:2223' }, interfaces: { wic: 'pub', ims: 'priv' } } }, noEnv).media;
  t.same(ng.ng, {
    address: { host: '127.0.0.1', port: 2223 }, gateways: [{ address: { host: '127.0.0.1', port: 2223 }, weight: 1 }], timeoutMs: 1000, retries: 2,
    health: { intervalSeconds: 1, downAfterFailures: 3, upAfterSuccesses: 2 },
  }, 'the single-address form: a pool of one');
  t.same(ng.interfaces, { wic: 'pub', ims: 'priv' });

  const fromEnv = resolveConfig(null, { configDir: '/', env: { EPCSCF_MEDIA_MODE: 'ng', EPCSCF_MEDIA_NG_ADDRESS: '127.0.0.1:22222' } }).media;
  t.equal(fromEnv.mode, 'ng');
  t.same(fromEnv.ng?.address, { host: '127.0.0.1', port: 22222 });

  t.throws(() => resolveConfig({ media: { mode: 'ng' } }, noEnv), { code: 'EPC_ERR_CONFIG_INVALID', message: /media\.ng: is required when media\.mode is ng/ });
  t.throws(() => resolveConfig({ media: { mode: 'rtpproxy' } }, noEnv), { message: /media\.mode/ });
  t.throws(() => resolveConfig({ media: { ng: { address: 'gw.example:2223' } } }, noEnv), { message: /media\.ng\.address: expected/ });
  t.throws(() => resolveConfig({ media: { gateway: { webrtc: { host: '127.0.0.1', ports: { min: 46000, max: 47000 } } } } }, noEnv),
    { message: /media\.gateway\.ims\.ports: overlaps media\.gateway\.webrtc\.ports/ });
  t.throws(() => resolveConfig({ media: { gateway: { ims: { host: '127.0.0.1', ports: { min: 50000, max: 49000 } } } } }, noEnv),
    { message: /media\.gateway\.ims\.ports: min 50000 is above max 49000/ });
});

t.test('admin: the bearer key comes from the file or EPCSCF_ADMIN_KEY; unset means admin API off; a short key is refused', async (t) => {
  const noEnv = { configDir: '/', env: {} };
  t.same(resolveConfig(null, noEnv).admin, {}, 'no key: /admin and /metrics are not served');
  t.same(resolveConfig({ admin: { bearerKey: 'k'.repeat(32) } }, noEnv).admin, { bearerKey: 'k'.repeat(32) });
  t.same(resolveConfig(null, { configDir: '/', env: { EPCSCF_ADMIN_KEY: 'e'.repeat(20) } }).admin, { bearerKey: 'e'.repeat(20) });
  t.throws(() => resolveConfig({ admin: { bearerKey: 'short' } }, noEnv), { code: 'EPC_ERR_CONFIG_INVALID', message: /admin\.bearerKey/ });
  t.throws(() => resolveConfig({ admin: { token: 'x' } }, noEnv), { message: /admin/ });
});

t.test('issue 15: overload control defaults an operator expects (rates per client and per IP, Mw bound, failover on silence) and their environment overrides', async (t) => {
  const config = resolveConfig(null, { configDir: '/', env: {} });
  t.same(config.w2.limits.registrationRatePerClient, { ratePerSecond: 1, burst: 10 }, 'a REGISTER and its digest retry, and a few re-registrations, at once');
  t.same(config.w2.limits.callRatePerClient, { ratePerSecond: 2, burst: 20 });
  t.same(config.w2.limits.framesPerConnection, { ratePerSecond: 50, burst: 100 }, 'above a busy user agent, far below a flood');
  t.same(config.w2.limits.sustainedFlood, { afterMs: 3000, framesPerSecond: 5 }, 'over budget 3 s straight is a flood: read at 5/s');
  t.same(config.w2.limits.connectionRatePerIp, { ratePerSecond: 10, burst: 100 }, 'every client behind one NAT may reconnect at once (maxConnectionsPerIp 100)');
  t.same(config.mw.overload, { maxOutstanding: 2000, maxQueued: 2000, maxQueueWaitMs: 2000, retryAfterSeconds: 5 });
  t.same(config.mw.failover, { noAnswerMs: 4000 });
  const overridden = resolveConfig(null, { configDir: '/', env: { EPCSCF_MW_MAX_OUTSTANDING: '10', EPCSCF_MW_FAILOVER_NO_ANSWER_SECONDS: '1.5' } });
  t.equal(overridden.mw.overload.maxOutstanding, 10);
  t.equal(overridden.mw.failover.noAnswerMs, 1500);
  t.throws(() => resolveConfig(null, { configDir: '/', env: { EPCSCF_W2_CALLS_PER_SECOND_PER_CLIENT: '0' } }), { code: 'EPC_ERR_CONFIG_INVALID' });
});
