/**
 * The stage of the WIC end-to-end tests: the real `npm start` (quickstart.ts) and one headless
 * Chromium for a whole test file, started before its first test and stopped after its last.
 * `open(name)` gives a WIC page in its own browser context; `diagnostics()` is what a failing test
 * prints: each page's call state, error banner and console, and epcscf's output.
 */
import { chromium, type Browser } from 'playwright-core';
import type { Test } from 'tap';
import { CHROMIUM_ARGS } from './browser-wic.js';
import { startQuickstart, type Quickstart } from './quickstart.js';
import { callState, errorBanner, openWic, type WicUser } from './wic-web-page.js';

export interface QuickstartStage {
  open(name: string): Promise<WicUser>;
  diagnostics(...users: WicUser[]): Promise<string>;
}

export function quickstartStage(t: Test): QuickstartStage {
  let quickstart: Quickstart | undefined;
  let browser: Browser | undefined;
  t.before(async () => {
    quickstart = await startQuickstart();
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: [...CHROMIUM_ARGS] });
  });
  t.teardown(async () => {
    await browser?.close().catch(() => undefined);
    await quickstart?.stop();
  });
  const started = (): { quickstart: Quickstart; browser: Browser } => {
    if (quickstart === undefined || browser === undefined) throw new Error('the quickstart stage is used before t.before ran');
    return { quickstart, browser };
  };
  return {
    open: (name) => { const s = started(); return openWic(s.browser, s.quickstart.url, name); },
    async diagnostics(...users) {
      const banners = await Promise.all(users.map(async (u) => `${u.name}: call-state "${await callState(u).catch(() => '?')}", error "${await errorBanner(u).catch(() => '?')}"`));
      return `${banners.join('\n')}\n${users.flatMap((u) => u.console).slice(-40).join('\n')}\n--- epcscf ---\n${started().quickstart.output().slice(-3000)}`;
    },
  };
}
