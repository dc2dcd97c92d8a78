/**
 * Drives the demo WIC (examples/wic-web) in a Chromium page only through what a user sees and
 * the data-testid attributes of issue #13 — no page internals, so a test proves the page.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';

export type WicProtocol = 'sip-ws' | 'jsonrpc-ws' | 'xmpp-ws';
export type WicAuthMode = 'web' | 'digest';

export interface WicUser {
  readonly name: string;
  readonly context: BrowserContext;
  readonly page: Page;
  /** Console lines and page errors, for failure messages. */
  readonly console: string[];
}

/** The little of the DOM these page functions use (the test tsconfig has no DOM types); they run in the page. */
interface PageElement { readonly textContent: string | null; readonly hidden?: boolean }
declare const document: {
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): ArrayLike<PageElement>;
  getElementById(id: string): PageElement | null;
};

const id = (testId: string): string => `[data-testid="${testId}"]`;

export async function openWic(browser: Browser, url: string, name: string): Promise<WicUser> {
  const context = await browser.newContext({ viewport: { width: 1180, height: 860 }, permissions: ['microphone'] });
  const page = await context.newPage();
  const lines: string[] = [];
  page.on('console', (m) => lines.push(`${name} console.${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => lines.push(`${name} pageerror: ${e.message}`));
  await page.goto(url);
  return { name, context, page, console: lines };
}

export async function signIn(user: WicUser, password: string, protocol: WicProtocol, mode: WicAuthMode, timeoutMs = 15_000): Promise<string> {
  const { page } = user;
  await page.fill(id('login-user'), user.name);
  await page.fill(id('login-password'), password);
  await page.selectOption(id('protocol'), protocol);
  await page.selectOption(id('auth-mode'), mode);
  await page.click(id('login-submit'));
  await page.waitForFunction(
    (sel) => /^registered/.test(document.querySelector(sel)?.textContent ?? '') || !(document.getElementById('login-error')?.hidden ?? true),
    id('registration-state'), { timeout: timeoutMs });
  return (await page.textContent(id('registration-state'))) ?? '';
}

export async function loginError(user: WicUser): Promise<string> {
  return (await user.page.textContent('#login-error')) ?? '';
}

export function callState(user: WicUser): Promise<string> {
  return user.page.textContent(id('call-state')).then((t) => t ?? '');
}

/** Waits until `call-state` matches. */
export async function waitForCallState(user: WicUser, pattern: RegExp, timeoutMs = 15_000): Promise<string> {
  await user.page.waitForFunction(
    ([sel, source, flags]) => new RegExp(source, flags).test(document.querySelector(sel)?.textContent ?? ''),
    [id('call-state'), pattern.source, pattern.flags] as const, { timeout: timeoutMs });
  return callState(user);
}

export async function dial(user: WicUser, target: string): Promise<void> {
  await user.page.fill(id('dial-target'), target);
  await user.page.click(id('dial'));
}

export async function answerWhenRinging(user: WicUser, timeoutMs = 15_000): Promise<void> {
  await user.page.waitForSelector(id('incoming-call'), { state: 'visible', timeout: timeoutMs });
  await user.page.click(id('answer'));
}

export async function rxPackets(user: WicUser): Promise<number> {
  return Number((await user.page.textContent(id('rx-packets'))) ?? '0');
}

/** Waits for more than `min` inbound audio packets on the page's own quality panel. */
export async function waitForRxPackets(user: WicUser, min: number, timeoutMs = 15_000): Promise<number> {
  await user.page.waitForFunction(
    ([sel, floor]) => Number(document.querySelector(sel)?.textContent ?? '0') > floor,
    [id('rx-packets'), min] as const, { timeout: timeoutMs },
  ).catch(() => undefined);
  return rxPackets(user);
}

export async function sendMessage(user: WicUser, to: string, text: string): Promise<void> {
  await user.page.fill(id('message-target'), to);
  await user.page.fill(id('message-text'), text);
  await user.page.click(id('message-send'));
}

export async function waitForMessage(user: WicUser, text: string, timeoutMs = 10_000): Promise<string> {
  await user.page.waitForFunction(
    ([sel, wanted]) => Array.from(document.querySelectorAll(`${sel} .bubble.in`)).some((b) => b.textContent?.includes(wanted) === true),
    [id('messages'), text] as const, { timeout: timeoutMs });
  return (await user.page.textContent(id('messages'))) ?? '';
}

export async function errorBanner(user: WicUser): Promise<string> {
  const visible = await user.page.isVisible('#error-banner');
  return visible ? ((await user.page.textContent('#error-text')) ?? '') : '';
}

/** Waits until the element's text is exactly `text`. */
export async function waitForText(user: WicUser, selector: string, text: string, timeoutMs = 5_000): Promise<void> {
  await user.page.waitForFunction(([sel, wanted]) => document.querySelector(sel)?.textContent === wanted, [selector, text] as const, { timeout: timeoutMs });
}
