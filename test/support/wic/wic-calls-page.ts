/**
 * Drives the MMTel side of the demo WIC (issue #14: several calls, call waiting, transfer, DTMF
 * both ways) in a Chromium page, through its data-testids only, like wic-web-page.ts does for
 * sign-in and a single call.
 */
import type { WicUser } from './wic-web-page.js';

/** The little of the DOM these page functions use (the test tsconfig has no DOM types); they run in the page. */
interface PageElement { readonly textContent: string | null; readonly hidden?: boolean }
declare const document: { querySelector(selector: string): PageElement | null };

const id = (testId: string): string => `[data-testid="${testId}"]`;

/** Waits until the (visible) element with this data-testid has text matching `pattern`; returns the text. */
export async function waitForTestId(user: WicUser, testId: string, pattern: RegExp, timeoutMs = 15_000): Promise<string> {
  await user.page.waitForFunction(
    ([sel, source, flags]) => {
      const element = document.querySelector(sel);
      return element !== null && element.hidden !== true && new RegExp(source, flags).test(element.textContent ?? '');
    },
    [id(testId), pattern.source, pattern.flags] as const, { timeout: timeoutMs });
  return (await user.page.textContent(id(testId))) ?? '';
}

/** CW (TS 24.615): waits for the inline "Call waiting" bar and returns who it names. */
export async function waitForWaitingCall(user: WicUser, timeoutMs = 15_000): Promise<string> {
  await user.page.waitForSelector(id('waiting-call'), { state: 'visible', timeout: timeoutMs });
  return (await user.page.textContent('#waiting-caller')) ?? '';
}

/** The other calls' rows (`call-item`): who and what state, as the user reads them. */
export async function otherCalls(user: WicUser): Promise<string[]> {
  return user.page.locator(id('call-item')).allTextContents();
}

/** "Switch" on the row of the call with `peer` (e.g. bob@ims.test): the current call is held, that one resumed. */
export async function switchTo(user: WicUser, peer: string): Promise<void> {
  await user.page.click(`${id('call-item')}[data-peer="${peer}"] ${id('switch-call')}`);
}

/** Presses keypad keys (DTMF during a call). */
export async function pressKeys(user: WicUser, keys: string): Promise<void> {
  for (const key of keys) await user.page.click(`#dialpad button[data-key="${key}"]`);
}

export async function blindTransfer(user: WicUser, target: string): Promise<void> {
  await user.page.click(id('transfer'));
  await user.page.fill(id('transfer-target'), target);
  await user.page.click(id('transfer-submit'));
}
