// Issue #14 proof that the demo WIC (examples/wic-web) offers the services the network gained:
// deflecting a ringing call (CD, TS 24.604: 302 with the deflect-to Contact), the Settings card over
// Ut (TS 24.623: CFU and the OIR default written into the user's simservs document on the XCAP
// server) and an ad-hoc conference (CONF, TS 24.605: the call merged through the factory, the
// focus's participant list shown, a party removed). Real Chromium pages over jsonrpc-ws, through
// data-testids only, against Kamailio, the in-process media gateway, a test XCAP server and a test
// conference focus (the quickstart has neither: there the Settings card and Conference stay hidden).
import { mkdirSync } from 'node:fs';
import t, { type Test } from 'tap';
import { chromium, type Browser } from 'playwright-core';
import { startWwsf, type Wwsf } from '../../examples/wwsf/index.js';
import { formatUri, getHeader, getHeaders } from '../../core/sip/index.js';
import { startEpcscf, startImsCore, type EpcscfUnderTest, type ImsCoreStandIn } from '../support/epcscf-harness.js';
import { startGateway } from '../support/media-gateways.js';
import { ConferenceFocus } from '../support/mmtel/conference-focus.js';
import { plainSdp, ScriptedUas } from '../support/scripted-uas.js';
import { CHROMIUM_ARGS } from '../support/wic/browser-wic.js';
import { answerWhenRinging, callState, dial, errorBanner, openWic, signIn, waitForCallState, type WicUser } from '../support/wic/wic-web-page.js';
import { simservsDocument, startXcapServer, type XcapServer } from '../support/xcap-server.js';

const ARTIFACTS = new URL('../artifacts/', import.meta.url);
mkdirSync(ARTIFACTS, { recursive: true });

interface Rig { core: ImsCoreStandIn; epcscf: EpcscfUnderTest; xcap: XcapServer; focus: ConferenceFocus; wwsf: Wwsf; browser: Browser }

/** The little of the DOM the page functions below use (the test tsconfig has no DOM types). */
interface PageElement { readonly textContent: string | null; readonly hidden: boolean; getAttribute(name: string): string | null }
declare const document: { querySelector(selector: string): PageElement | null; querySelectorAll(selector: string): ArrayLike<PageElement> };

async function setUp(t: Test): Promise<Rig> {
  const core = await startImsCore();
  t.teardown(() => core.stop());
  const xcap = await startXcapServer({ 'sip:alice@ims.test': simservsDocument() });
  t.teardown(() => xcap.close());
  const focus = await ConferenceFocus.start();
  t.teardown(() => focus.close());
  const gateway = await startGateway('media-gw');
  t.teardown(() => gateway.stop());
  const epcscf = await startEpcscf({
    nextHop: core.uri('udp'), media: gateway.control, extraPlugins: [{ name: 'jsonrpc-ws' }],
    ut: { xcapRoot: xcap.root, timeoutMs: 5000 }, mmtel: { conferenceFactoryUri: focus.factoryUri },
  });
  t.teardown(() => epcscf.close());
  const wwsf = await startWwsf({ port: 0, clientConfig: { domain: 'ims.test', endpoints: { 'jsonrpc-ws': `${epcscf.baseUrl}/jsonrpc` }, authModes: ['digest'] } });
  t.teardown(() => wwsf.close());
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: [...CHROMIUM_ARGS] });
  t.teardown(() => browser.close().catch(() => undefined));
  return { core, epcscf, xcap, focus, wwsf, browser };
}

/** The Kamailio IMS core stand-in's passwords: alice's own, everyone else's "secret". */
const passwordOf = (name: string): string => (name === 'alice' ? 'alicepw' : 'secret');

async function user(t: Test, rig: Rig, name: string): Promise<WicUser> {
  const u = await openWic(rig.browser, rig.wwsf.url, name);
  t.teardown(() => u.context.close());
  t.match(await signIn(u, passwordOf(name), 'jsonrpc-ws', 'digest'), /^registered/, `${name} registered over jsonrpc-ws`);
  return u;
}

async function waitVisible(u: WicUser, testId: string, timeoutMs = 10_000): Promise<void> {
  await u.page.waitForSelector(`[data-testid="${testId}"]`, { state: 'visible', timeout: timeoutMs });
}

async function diagnostics(rig: Rig, ...users: WicUser[]): Promise<string> {
  const lines = await Promise.all(users.map(async (u) => `${u.name}: call-state "${await callState(u).catch(() => '?')}", error "${await errorBanner(u).catch(() => '?')}"`));
  return `${lines.join('\n')}\n${users.flatMap((u) => u.console).slice(-30).join('\n')}\n${rig.epcscf.capture.dump().slice(-4000)}`;
}

t.test('issue #14 WIC services over jsonrpc-ws: Settings over Ut (CFU, hide my number), deflecting a ringing call (302), an ad-hoc conference with its participants', async (t) => {
  const rig = await setUp(t);
  const [alice, bob] = await Promise.all([user(t, rig, 'alice'), user(t, rig, 'bob')]);
  try {
    await t.test('TS 24.623: the Settings card reads alice\'s simservs and writes CFU to carol and the OIR default into the XCAP server', async (t) => {
      await waitVisible(alice, 'settings');
      t.equal(await alice.page.isChecked('[data-testid="cfu-enabled"]'), false, 'CFU off, as the document says');
      t.equal(await alice.page.isDisabled('[data-testid="cfu-target"]'), true, 'no forwarding target while CFU is off');
      await alice.page.check('[data-testid="cfu-enabled"]');
      await alice.page.fill('[data-testid="cfu-target"]', 'carol');
      await alice.page.check('[data-testid="oir-default"]');
      await alice.page.click('[data-testid="settings-save"]');
      await alice.page.waitForFunction(() => /^Saved/.test(document.querySelector('[data-testid="settings-status"]')?.textContent ?? ''), undefined, { timeout: 10_000 });
      t.equal(await alice.page.textContent('[data-testid="settings-status"]'), 'Saved · calls go to carol@ims.test', 'the card says where calls go');
      const stored = rig.xcap.document('sip:alice@ims.test') ?? '';
      t.match(stored, /<communication-diversion[^>]*active="true"[^]*<forward-to><target>sip:carol@ims\.test<\/target>/, 'the XCAP server holds a CFU rule to sip:carol@ims.test');
      t.match(stored, /<default-behaviour>presentation-restricted<\/default-behaviour>/, 'and OIR restricted by default');
      t.match(stored, /<incoming-communication-barring active="false">/, 'barring untouched');
      t.same(rig.xcap.requests.filter((r) => r.assertedIdentity !== r.xui).map((r) => `${r.method} ${r.path} ${r.assertedIdentity}`), [], 'every Ut request was asserted as the owner of the document it asked for (TS 24.109)');
      t.ok(rig.xcap.requests.some((r) => r.method === 'PUT' && r.assertedIdentity === 'sip:alice@ims.test'), 'alice\'s writes were asserted as alice');
      // Read back by a fresh page: the card shows what the server holds.
      await alice.page.reload();
      await signIn(alice, 'alicepw', 'jsonrpc-ws', 'digest');
      await waitVisible(alice, 'settings');
      await alice.page.waitForFunction(() => (document.querySelector('[data-testid="cfu-target"]') as unknown as { value: string } | null)?.value === 'carol@ims.test', undefined, { timeout: 10_000 });
      t.equal(await alice.page.isChecked('[data-testid="cfu-enabled"]'), true, 'after a reload: CFU on');
      t.equal(await alice.page.isChecked('[data-testid="oir-default"]'), true, 'after a reload: number hidden');
      await alice.page.screenshot({ path: new URL('wic-services-settings.png', ARTIFACTS).pathname });
    });

    await t.test('TS 24.604 CD: "Forward to…" on a ringing call answers the INVITE 302 with Contact <sip:carol@ims.test>', async (t) => {
      const caller = await ScriptedUas.start();
      t.teardown(() => caller.close());
      const outcome = caller.offerCall('sip:alice@ims.test', rig.core.uri('udp'), { sdp: plainSdp(1), from: 'sip:dave@ims.test' });
      await waitVisible(alice, 'incoming-call', 15_000);
      await alice.page.click('[data-testid="deflect"]');
      await alice.page.fill('[data-testid="deflect-target"]', 'carol');
      await alice.page.click('[data-testid="deflect-submit"]');
      const { final } = await outcome;
      t.equal(final.status, 302, 'the caller got 302 Moved Temporarily');
      t.same(getHeaders(final, 'Contact'), ['<sip:carol@ims.test>'], 'whose only Contact is the deflect-to URI');
      t.match(await waitForCallState(alice, /^ended/), /forwarded to carol/, 'alice: "ended · forwarded to carol"');
      t.equal(await alice.page.isVisible('[data-testid="incoming-call"]'), false, 'the alert is gone');
    });

    await t.test('TS 24.605 CONF: "Merge" merges the call with bob through the factory; the focus\'s list is shown; bob removed', async (t) => {
      await dial(alice, 'bob');
      await answerWhenRinging(bob);
      await waitForCallState(alice, /^established$/);
      await alice.page.screenshot({ path: new URL('wic-services-merge.png', ARTIFACTS).pathname });
      await alice.page.click('[data-testid="conference"]');
      const invite = await rig.focus.waitFor('INVITE', 0, 15_000);
      t.match(formatUri(invite.uri), /conf-factory/, 'the INVITE went to the conference factory');
      await waitVisible(alice, 'conference-panel', 15_000);
      await alice.page.waitForFunction(() => Array.from(document.querySelectorAll('[data-testid="participant"]')).some((p) => /bob/.test(p.getAttribute('data-uri') ?? '')), undefined, { timeout: 15_000 });
      const refer = rig.focus.received.find((r) => r.method === 'REFER');
      t.match(refer !== undefined ? getHeader(refer, 'Refer-To') ?? '' : '', /sip:bob@ims\.test;method=INVITE/i, 'bob invited into the conference (REFER to the focus, RFC 4579 §5.5)');
      t.match(await alice.page.textContent('[data-testid="conference-participants"]'), /You[^]*bob/, 'the list shows alice as You and bob');
      await alice.page.screenshot({ path: new URL('wic-services-conference.png', ARTIFACTS).pathname });
      await alice.page.click('[data-testid="participant"][data-uri*="bob"] [data-testid="participant-remove"]');
      await alice.page.waitForFunction(() => !Array.from(document.querySelectorAll('[data-testid="participant"]')).some((p) => /bob/.test(p.getAttribute('data-uri') ?? '')), undefined, { timeout: 10_000 });
      t.pass('bob left the list after Remove (REFER method=BYE)');
      await alice.page.click('[data-testid="hangup"]');
      await waitForCallState(alice, /^ended/);
    });
  } catch (error) {
    t.fail(`${String(error)}\n${await diagnostics(rig, alice, bob)}`);
  }
});
