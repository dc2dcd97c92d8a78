/**
 * The quickstart a newcomer gets, for a test: the real `npm start` (examples/quickstart: the demo
 * WWSF serving the WIC with web login, epcscf with all three W2 plugins, the in-process media
 * gateway and the dev IMS core) as a child process on free ports, stopped by its PID (process
 * group). The WIC URL is read from its banner, as a newcomer reads it.
 */
import { fileURLToPath } from 'node:url';
import { startDaemon, type Daemon } from '../peers/process.js';

export interface Quickstart {
  /** The page a user opens (`  WIC: <url>` in the banner). */
  readonly url: string;
  /** What npm start printed, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const WIC_LINE = /^ {2}WIC: (http:\/\/\S+)$/m;

export async function startQuickstart(): Promise<Quickstart> {
  const daemon: Daemon = await startDaemon({
    name: 'npm start', command: 'npm',
    args: ['start', '--silent', '--', '--http-port', '0', '--w2-port', '0', '--mw-port', '0', '--dev-core-port', '0'],
    // EPCSCF_FROM_SOURCE: this checkout's code, not a dist/ of an older build.
    cwd: REPO, env: { ...process.env, EPCSCF_FROM_SOURCE: '1' },
    ready: { kind: 'log', pattern: /epcscf is ready/ }, readyTimeoutMs: 60_000,
  });
  const url = WIC_LINE.exec(daemon.output())?.[1];
  if (url === undefined) {
    await daemon.stop(5_000);
    throw new Error(`npm start printed no "  WIC: <url>" line:\n${daemon.output().slice(-3000)}`);
  }
  let stopping: Promise<void> | undefined;
  return {
    url,
    output: () => daemon.output(),
    stop() {
      stopping ??= daemon.stop(10_000).then(() => undefined);
      return stopping;
    },
  };
}
