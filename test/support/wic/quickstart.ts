/**
 * The quickstart a newcomer gets, started for a test: epcscf as a child process (the real
 * `epcscf` command: all three plugins, in-process media gateway, the embedded dev IMS core) and
 * the demo WWSF serving the WIC. Stopped by PID.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startWwsf, type Wwsf } from '../../../examples/wwsf/index.js';
import { allocatePorts, releasePort } from '../peers/ports.js';
import { startDaemon, type Daemon } from '../peers/process.js';

export interface Quickstart {
  /** The page a user opens. */
  readonly url: string;
  /** What the runtime printed, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

const ROOT = new URL('../../../', import.meta.url);

export async function startQuickstart(): Promise<Quickstart> {
  const [w2Port, mwPort] = await allocatePorts(2);
  if (w2Port === undefined || mwPort === undefined) throw new Error('no ports');
  const dir = await mkdtemp(join(tmpdir(), 'epcscf-quickstart-'));
  const config = join(dir, 'epcscf.yaml');
  let daemon: Daemon | undefined;
  let wwsf: Wwsf | undefined;
  try {
    // The WWSF first: epcscf trusts its JWKS (webAuth); its /config.json learns the W2 URLs after.
    wwsf = await startWwsf({ port: 0 });
    await writeFile(config, [
      `w2: { listen: "127.0.0.1:${w2Port}", allowedOrigins: ["${wwsf.origin}"] }`,
      'plugins: [{ name: sip-ws }, { name: jsonrpc-ws }, { name: xmpp-ws }]',
      `mw: { listen: ["udp:127.0.0.1:${mwPort}"], domain: ims.test, visitedNetworkId: epcscf.test }`,
      `webAuth: { issuers: [{ issuer: "${wwsf.issuer}", audience: "${wwsf.audience}", jwks: { url: "${wwsf.jwksUrl}" }, origins: ["${wwsf.origin}"] }] }`,
      'log: { level: warn }',
    ].join('\n'));
    daemon = await startDaemon({
      name: 'epcscf', command: process.execPath, args: ['core/cli/epcscf.mjs', '--config', config, '--dev-core-port', '0'],
      cwd: ROOT.pathname, ready: { kind: 'log', pattern: /epcscf is ready/ }, readyTimeoutMs: 30_000,
    });
    const w2 = `ws://127.0.0.1:${w2Port}`;
    wwsf.setClientConfig({ domain: 'ims.test', endpoints: { 'sip-ws': `${w2}/sip`, 'jsonrpc-ws': `${w2}/jsonrpc`, 'xmpp-ws': `${w2}/xmpp` }, authModes: ['web', 'digest'] });
  } catch (error) {
    await daemon?.stop();
    await wwsf?.close();
    await rm(dir, { recursive: true, force: true });
    releasePort(w2Port);
    releasePort(mwPort);
    throw error;
  }
  const started = { daemon, wwsf };
  let stopping: Promise<void> | undefined;
  return {
    url: started.wwsf.url,
    output: () => started.daemon.output(),
    stop() {
      stopping ??= (async () => {
        await started.wwsf.close();
        await started.daemon.stop(5_000);
        await rm(dir, { recursive: true, force: true });
        releasePort(w2Port);
        releasePort(mwPort);
      })();
      return stopping;
    },
  };
}
