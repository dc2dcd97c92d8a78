// Issue #13 proof: the demo WIC (examples/wic-web) as a newcomer uses it. The real `npm start`
// runs as a child process (the demo WWSF serving the page with web login, epcscf with all three W2
// plugins, the in-process media gateway and the dev IMS core); headless Chromium (fake audio device) opens it in two
// browser contexts, alice and bob, and drives it only through its data-testids. For each W2
// protocol and both sign-in methods (TS 24.371 scenario 1 digest, scenario 2 web token): register,
// call, audio both ways (the page's own getStats figure), hold and resume, a message each way,
// hang up. Screenshots land in test/artifacts/ (git-ignored).
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import t from 'tap';
import { quickstartStage } from '../support/wic/quickstart-stage.js';
import {
  answerWhenRinging, dial, errorBanner, loginError, rxPackets, sendMessage, signIn, waitForCallState,
  waitForMessage, waitForRxPackets, waitForText, type WicAuthMode, type WicProtocol, type WicUser,
} from '../support/wic/wic-web-page.js';

const ARTIFACTS = new URL('../artifacts/', import.meta.url);
mkdirSync(ARTIFACTS, { recursive: true });
for (const old of readdirSync(ARTIFACTS).filter((f) => /^wic-.*\.png$/.test(f))) rmSync(new URL(old, ARTIFACTS));

/** Each combination dials bob in another of the forms the dial field accepts. */
const COMBOS: readonly { protocol: WicProtocol; mode: WicAuthMode; target: string }[] = [
  { protocol: 'sip-ws', mode: 'digest', target: 'bob' },
  { protocol: 'sip-ws', mode: 'web', target: 'sip:bob@ims.test' },
  { protocol: 'jsonrpc-ws', mode: 'digest', target: '+1 555 0002' },
  { protocol: 'jsonrpc-ws', mode: 'web', target: 'bob' },
  { protocol: 'xmpp-ws', mode: 'digest', target: 'bob' },
  { protocol: 'xmpp-ws', mode: 'web', target: 'sip:bob@ims.test' },
];

const stage = quickstartStage(t);

async function shot(user: WicUser, name: string): Promise<void> {
  await user.page.screenshot({ path: new URL(`wic-${name}.png`, ARTIFACTS).pathname });
}

for (const { protocol, mode, target } of COMBOS) {
  t.test(`issue #13 WIC, ${protocol} with ${mode === 'web' ? 'web login (token, scenario 2)' : 'IMS digest (scenario 1)'}: alice and bob register, call (audio both ways), hold/resume, message each way, hang up`, async (t) => {
    const [alice, bob] = await Promise.all([stage.open('alice'), stage.open('bob')]);
    t.teardown(async () => { await alice.context.close(); await bob.context.close(); });
    const name = `${protocol}-${mode}`;
    /** The full set of screens once (the README's and a newcomer's); the call screen for every combination. */
    const tour = protocol === 'sip-ws' && mode === 'web';
    try {
      if (tour) await shot(alice, 'login');
      const [aliceState, bobState] = await Promise.all([signIn(alice, 'alicepw', protocol, mode), signIn(bob, 'bobpw', protocol, mode)]);
      t.match(aliceState, /^registered/, `alice: registration-state says registered (${await loginError(alice)})`);
      t.match(bobState, /^registered/, `bob: registration-state says registered (${await loginError(bob)})`);
      if (!/^registered/.test(aliceState) || !/^registered/.test(bobState)) return; // nothing more to prove without registrations
      t.match(await alice.page.textContent('#status-facts'), mode === 'web' ? /auth web token until/ : /auth IMS digest/, `registered ${mode === 'web' ? 'with the WWSF\'s token' : 'with the IMS password'}`);
      if (tour) await shot(alice, `${name}-registered`);

      await dial(alice, target);
      await bob.page.waitForSelector('[data-testid="incoming-call"]', { state: 'visible', timeout: 15_000 });
      t.match(await bob.page.textContent('#caller'), /alice@ims\.test/, 'bob\'s incoming-call alert names alice');
      if (tour) await shot(bob, `${name}-incoming`);
      await answerWhenRinging(bob);
      t.match(await waitForCallState(alice, /established/), /established/, `alice dialled "${target}": call-state established`);
      t.match(await waitForCallState(bob, /established/), /established/, 'bob answered the incoming-call alert: established');
      const [aliceRx, bobRx] = [await waitForRxPackets(alice, 100), await waitForRxPackets(bob, 100)];
      t.ok(aliceRx > 100, `alice's page counts ${aliceRx} inbound audio packets (> 100)`);
      t.ok(bobRx > 100, `bob's page counts ${bobRx} inbound audio packets (> 100)`);

      await alice.page.click('[data-testid="hold"]');
      t.match(await waitForCallState(alice, /on hold/), /on hold/, 'alice put the call on hold');
      t.match(await waitForCallState(bob, /held by the other side/), /held/, 'bob sees the hold (re-INVITE / session-info from alice)');
      await alice.page.click('[data-testid="hold"]');
      t.equal(await waitForCallState(alice, /^established$/), 'established', 'alice resumed');
      t.equal(await waitForCallState(bob, /^established$/), 'established', 'bob sees the call resumed');
      const afterResume = await rxPackets(bob);
      t.ok(await waitForRxPackets(bob, afterResume + 25) > afterResume + 25, 'audio reaches bob again after the resume');

      await sendMessage(alice, 'bob', `Hi Bob, this is alice over ${protocol}`);
      t.match(await waitForMessage(bob, `this is alice over ${protocol}`), /alice@ims\.test/, 'bob got alice\'s message, shown as from alice@ims.test');
      await sendMessage(bob, 'alice', 'Hi alice, loud and clear');
      t.ok(await waitForMessage(alice, 'loud and clear'), 'alice got bob\'s answer');
      await shot(alice, `${name}-call`); // in a call, after a message each way

      await alice.page.click('[data-testid="hangup"]');
      t.match(await waitForCallState(alice, /ended/), /^ended/, 'alice hung up: call-state ended');
      t.match(await waitForCallState(bob, /ended/), /^ended/, 'bob: call-state ended');
    } catch (error) {
      await shot(alice, `${name}-failed-alice`).catch(() => undefined);
      await shot(bob, `${name}-failed-bob`).catch(() => undefined);
      t.fail(`${String(error)}\n${await stage.diagnostics(alice, bob)}`);
    }
  });
}

t.test('issue #13 WIC: errors in words — a wrong IMS password and a wrong web password are refused with a sentence, not a code', async (t) => {
  const carol = await stage.open('carol');
  t.teardown(() => carol.context.close());
  await signIn(carol, 'wrong', 'sip-ws', 'digest');
  t.match(await loginError(carol), /^Registration refused: wrong user name or password \(SIP 40[13] .*\)\.$/, 'digest: the IMS refusal in words, with its SIP status');
  await signIn(carol, 'wrong', 'jsonrpc-ws', 'web');
  t.match(await loginError(carol), /check the user name and password/, 'web: the WWSF\'s refusal in words, saying what to do');
  t.notMatch(await loginError(carol), /^Registration refused/, 'web: refused at the web login, before any registration');
});

t.test('issue #13 WIC, scenario 3: "guest" with web login registers with an IMPU from the WWSF\'s pool', async (t) => {
  const guest = await stage.open('guest');
  t.teardown(() => guest.context.close());
  t.match(await signIn(guest, 'any', 'sip-ws', 'web'), /^registered/, `guest: registered (${await loginError(guest)})`);
  t.match(await guest.page.textContent('#status-facts'), /IMPU sip:guest\d+@ims\.test/, 'the IMPU shown is a pooled guest identity');
});

t.test('issue #13 WIC, jsonrpc-ws: decline, DTMF, mute and blind transfer from the page (bob is transferred to carol, audio between them)', async (t) => {
  const [alice, bob, carol] = await Promise.all([stage.open('alice'), stage.open('bob'), stage.open('carol')]);
  t.teardown(async () => { for (const u of [alice, bob, carol]) await u.context.close(); });
  try {
    await Promise.all([signIn(alice, 'alicepw', 'jsonrpc-ws', 'digest'), signIn(bob, 'bobpw', 'jsonrpc-ws', 'digest'), signIn(carol, 'carolpw', 'jsonrpc-ws', 'digest')]);
    await dial(alice, 'bob');
    await bob.page.waitForSelector('[data-testid="incoming-call"]', { state: 'visible', timeout: 15_000 });
    await bob.page.click('[data-testid="reject"]');
    t.match(await waitForCallState(alice, /ended/), /declined \(SIP 603/, 'bob declined: alice reads "declined" with the SIP status');
    t.match(await waitForCallState(bob, /ended/), /you declined/, 'bob reads that he declined');

    await dial(alice, 'bob');
    await answerWhenRinging(bob);
    await waitForCallState(alice, /^established$/);
    for (const key of ['1', '2', '#']) await alice.page.click(`#dialpad button[data-key="${key}"]`);
    await waitForText(alice, '#dtmf-sent', 'Tones sent: 12#');
    t.equal(await errorBanner(alice), '', 'DTMF 1 2 # sent (call.dtmf → SIP INFO) without an error');
    await alice.page.click('[data-testid="mute"]');
    t.equal(await alice.page.textContent('[data-testid="mute"]'), 'Unmute', 'mute toggles');
    await alice.page.click('[data-testid="mute"]');

    await alice.page.click('[data-testid="transfer"]');
    await alice.page.fill('[data-testid="transfer-target"]', 'carol');
    await alice.page.click('[data-testid="transfer-submit"]');
    await answerWhenRinging(carol);
    t.match(await waitForCallState(carol, /established/), /established/, 'carol answered the transferred call');
    t.match(await waitForCallState(bob, /established/), /established/, 'bob followed the REFER to carol');
    t.match(await bob.page.textContent('#peer-name'), /carol@ims\.test/, 'bob\'s screen now shows carol');
    t.match(await waitForCallState(alice, /ended/), /ended/, 'alice left the call once the transfer succeeded');
    t.ok(await waitForRxPackets(carol, 50) > 50, 'audio reaches carol from bob');
    t.ok(await waitForRxPackets(bob, 50) > 50, 'audio reaches bob from carol');
    await carol.page.click('[data-testid="hangup"]');
    t.match(await waitForCallState(bob, /ended/), /ended/, 'carol hung up');
  } catch (error) {
    await shot(alice, 'transfer-failed-alice').catch(() => undefined);
    await shot(bob, 'transfer-failed-bob').catch(() => undefined);
    t.fail(`${String(error)}\n${await stage.diagnostics(alice, bob, carol)}`);
  }
});
