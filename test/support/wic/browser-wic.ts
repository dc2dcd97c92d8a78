/**
 * A browser WIC for tests: headless Debian Chromium (playwright-core) opening a page served on
 * 127.0.0.1 that loads the JsSIP bundle (test/fixtures/wic/jssip-page.html). The page plays the
 * role of the WWSF's web app; its WebSocket goes to epcscf with the page's Origin.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { chromium, type Browser, type Page } from 'playwright-core';
import { allocatePort, releasePort } from '../peers/ports.js';
import { jssipBrowserBundle } from './jssip-bundle.js';

const PAGE = new URL('../../fixtures/wic/jssip-page.html', import.meta.url);

/** real-peers.md: the flags that make headless Chromium usable on this machine (loopback WebRTC, no sandbox as root). */
export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic',
  '--allow-loopback-in-peer-connection', '--disable-features=WebRtcHideLocalIpsWithMdns',
] as const;

export interface BrowserWic {
  readonly page: Page;
  /** http://127.0.0.1:port — the Origin epcscf sees. */
  readonly origin: string;
  /** Console lines from the page, for failure messages. */
  readonly console: string[];
  close(): Promise<void>;
}

/**
 * `page`: the HTML the WWSF serves (default: the JsSIP page, which also gets /jssip.js); the
 * JSON-RPC page needs no library at all. `library`: another bundled client library the page loads
 * (e.g. `{ path: '/stanza.js', bundle: stanzaBrowserBundle }`).
 */
export async function startBrowserWic(options: { page?: URL; library?: { path: string; bundle(): Promise<string> } } = {}): Promise<BrowserWic> {
  const libraryPath = options.library?.path ?? '/jssip.js';
  const script = options.library !== undefined ? await options.library.bundle() : options.page === undefined ? await jssipBrowserBundle() : '';
  const html = readFileSync(options.page ?? PAGE);
  const port = await allocatePort();
  const server: Server = createServer((req, res) => {
    if (req.url === libraryPath) {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      res.end(script);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(html);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  let browser: Browser | undefined;
  try {
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: [...CHROMIUM_ARGS] });
    const page = await (await browser.newContext()).newPage();
    const consoleLines: string[] = [];
    page.on('console', (m) => consoleLines.push(m.text()));
    const origin = `http://127.0.0.1:${port}`;
    await page.goto(`${origin}/`);
    const openBrowser = browser;
    let closing: Promise<void> | undefined;
    return {
      page, origin, console: consoleLines,
      close() {
        closing ??= (async () => {
          await openBrowser.close().catch(() => undefined);
          await new Promise<void>((resolve) => server.close(() => resolve()));
          releasePort(port);
        })();
        return closing;
      },
    };
  } catch (error) {
    await browser?.close().catch(() => undefined);
    server.close();
    releasePort(port);
    throw error;
  }
}
