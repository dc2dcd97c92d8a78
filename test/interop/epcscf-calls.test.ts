// Issue #3 proof: calls through epcscf between real peers. JsSIP users in Node over WebSocket,
// Kamailio as the IMS core stand-in, sipp as an IMS-side UAS/UAC. The R-ORIG / R-TERM /
// R-SIPWS rules are asserted on what each end captured (client frames, epcscf's Mw side).
import t, { type Test } from 'tap';
import {
  chargingVector, getHeader, getHeaders, type SipMessage, type SipRequest, type SipUri,
} from '../../core/sip/index.js';
import { isRequest, isResponse, startEpcscf, startImsCore, type EpcscfUnderTest, type ImsCoreStandIn } from '../support/epcscf-harness.js';
import { ownRecordRoutes, sipUris } from '../support/sip-assertions.js';
import { allocatePort, releasePort } from '../support/peers/ports.js';
import { runSipp, SIPP_SCENARIOS, startSippUas } from '../support/peers/sipp.js';
import { JsSipUser } from '../support/wic/jssip-user.js';
import { SipJsUser } from '../support/wic/sipjs-user.js';

interface Rig { core: ImsCoreStandIn; epcscf: EpcscfUnderTest }

async function setUp(t: Test): Promise<Rig> {
  const core = await startImsCore();
  t.teardown(() => core.stop());
  const epcscf = await startEpcscf({ nextHop: core.uri('udp') });
  t.teardown(() => epcscf.close());
  return { core, epcscf };
}

async function registeredJsSip(t: Test, rig: Rig, user: string, password = 'secret'): Promise<JsSipUser> {
  const ua = await JsSipUser.connect({ wsUrl: rig.epcscf.wsUrl, user, password });
  t.teardown(() => ua.stop());
  const status = await ua.register();
  if (status !== 200) throw new Error(`${user} did not register (${status})\n${rig.core.output().slice(-2000)}`);
  return ua;
}

const wsSideEntry = (message: SipMessage, epcscf: EpcscfUnderTest): SipUri | undefined =>
  sipUris(message, 'Record-Route').find((u) => u.port === epcscf.w2Port);

const paiOf = (message: SipMessage): string[] => getHeaders(message, 'P-Asserted-Identity');

const mwInvites = (epcscf: EpcscfUnderTest): SipRequest[] => epcscf.capture.requests('mw', 'out', 'INVITE');

t.test('R-ORIG-2/4/5, R-SIPWS-12, R-TERM-1/2/3: JsSIP A calls JsSIP B through epcscf and Kamailio (INVITE/180/200/ACK/BYE)', async (t) => {
  const rig = await setUp(t);
  const { epcscf, core } = rig;
  const alice = await registeredJsSip(t, rig, 'alice', 'alicepw');
  const bob = await registeredJsSip(t, rig, 'bob');

  // The WIC tries to assert an identity it does not own: epcscf must drop it (R-ORIG-2).
  const outgoing = alice.call('sip:bob@ims.test', ['P-Asserted-Identity: <sip:ceo@ims.test>']);
  const incoming = await bob.nextIncoming();
  t.equal(await outgoing.progress(), 180, 'alice hears 180 Ringing from bob');
  incoming.answer(['P-Asserted-Identity: <sip:someone-else@ims.test>']);
  await outgoing.accepted();
  await incoming.confirmed();
  t.pass('the ACK reached bob: the dialog is confirmed at both ends');
  // Mw: alice's originating INVITE (toward the Service-Route); the terminating leg reaches bob over W2.
  const origInvite = mwInvites(epcscf)[0];
  t.ok(origInvite, 'alice\'s INVITE went out on Mw');
  if (!origInvite) throw new Error('no originating INVITE on Mw');
  // R-ORIG-2: exactly one PAI, the default IMPU from P-Associated-URI; the forged one removed.
  t.same(paiOf(origInvite).map((v) => v.replace(/\s/g, '')), ['<sip:alice@ims.test>'], 'PAI = registered default IMPU only');
  // R-ORIG-4: Route on Mw = the stored Service-Route, nothing else.
  const routes = sipUris(origInvite, 'Route');
  t.equal(routes.length, 1, 'one Route entry on Mw');
  t.equal(routes[0]?.user, 'orig', 'Route = Service-Route <sip:orig@...> from the 200 OK');
  t.equal(routes[0]?.port, core.port, 'Service-Route points at the core');
  // R-ORIG-5: icid.
  t.ok(chargingVector(origInvite)?.icidValue, 'P-Charging-Vector icid-value on the originating INVITE');
  // R-SIPWS-12 / R-ORIG-3: double Record-Route, Mw side first (facing the core), WS side with the flow token.
  t.same(ownRecordRoutes(origInvite, epcscf).slice(0, 2), ['mw', 'w2'], 'double Record-Route: Mw entry then W2 entry');
  const mwEntry = sipUris(origInvite, 'Record-Route').find((u) => u.port === epcscf.mwPort);
  t.equal(mwEntry?.user, undefined, 'the Mw-side entry carries no flow token (R-ORIG-3)');
  const wsEntry = wsSideEntry(origInvite, epcscf);
  t.ok(wsEntry?.user, 'the W2-side entry carries the flow token');
  t.ok(wsEntry?.params.some((p) => p.name === 'transport' && p.value?.toLowerCase() === 'ws'), 'the W2-side entry says transport=ws');

  // Terminating leg: what bob received.
  const invAtBob = bob.capture.requests('received', 'INVITE')[0];
  t.ok(invAtBob, 'bob received the INVITE over his WebSocket');
  if (invAtBob) {
    // R-TERM-1: our Path Route was consumed; nothing of ours left in Route.
    t.equal(sipUris(invAtBob, 'Route').filter((u) => u.port === epcscf.mwPort || u.port === epcscf.w2Port).length, 0, 'our own Route entries are removed');
    // R-TERM-2: double Record-Route on the terminating side, W2 entry on top (facing the WIC).
    const own = ownRecordRoutes(invAtBob, epcscf);
    t.same(own.slice(0, 2), ['w2', 'mw'], 'terminating double Record-Route: W2 entry first, then Mw');
    t.same(paiOf(invAtBob).map((v) => v.replace(/\s/g, '')), ['<sip:alice@ims.test>'], 'bob sees the asserted caller identity');
  }
  // R-TERM-3: the 180/200 bob sent leave epcscf on Mw with bob's asserted identity, his forged PAI gone.
  const termResponses = epcscf.capture.entries.filter((e) => e.side === 'mw' && e.direction === 'out' && e.message.kind === 'response'
    && (e.message.status === 180 || e.message.status === 200) && getHeader(e.message, 'CSeq')?.endsWith('INVITE'));
  t.ok(termResponses.length >= 2, 'bob\'s 180 and 200 went out on Mw');
  for (const e of termResponses) {
    const status = e.message.kind === 'response' ? e.message.status : 0;
    t.same(paiOf(e.message).map((v) => v.replace(/\s/g, '')), ['<sip:bob@ims.test>'], `${status} carries PAI = bob's registered identity only`);
  }
  // Hang up last, so the INVITE-time checks above are reported even if the BYE goes wrong.
  outgoing.hangup();
  // JsSIP ends its session as soon as it sends the BYE; the answer comes a moment later.
  const byeAnswer = await alice.capture.waitFor((f) => f.direction === 'received' && f.message?.kind === 'response'
    && f.message.status >= 200 && getHeader(f.message, 'CSeq')?.endsWith('BYE') === true, { what: 'final response to the BYE at alice' });
  const byeStatus = byeAnswer.message?.kind === 'response' ? `${byeAnswer.message.status} ${byeAnswer.message.reason}` : undefined;
  t.equal(byeStatus, '200 OK', 'the BYE (hairpinned: epcscf → Kamailio → epcscf, a spiral) was answered 200 end to end');
  const bobEnd = await incoming.ended(2000).catch(() => undefined);
  t.equal(bobEnd?.originator, 'remote', 'bob got the BYE');
  t.equal((await outgoing.ended()).event, 'ended', 'alice\'s call ended normally');

  // The BYE from alice followed the route set: it went out on Mw and in to bob.
  t.ok(epcscf.capture.requests('mw', 'out', 'BYE').length >= 1, 'BYE left on Mw');
  t.equal(bob.capture.requests('received', 'BYE').length, 1, 'bob received exactly one BYE');
  t.ok(epcscf.capture.requests('mw', 'out', 'ACK').length >= 1, 'ACK left on Mw');
});

t.test('R-ORIG-2: a SIP.js user calls a JsSIP user through epcscf (SIP.js as caller, JsSIP hangs up)', async (t) => {
  const rig = await setUp(t);
  const carol = await SipJsUser.connect({ wsUrl: rig.epcscf.wsUrl, user: 'carol', password: 'secret' });
  t.teardown(() => carol.stop());
  t.equal(await carol.register(), 200, 'SIP.js carol registered');
  const bob = await registeredJsSip(t, rig, 'bob');
  const outgoing = carol.call('sip:bob@ims.test');
  const incoming = await bob.nextIncoming();
  incoming.answer();
  await outgoing.established();
  await incoming.confirmed();
  t.pass('SIP.js → epcscf → Kamailio → epcscf → JsSIP: INVITE/180/200/ACK');
  const origInvite = mwInvites(rig.epcscf)[0];
  t.same(origInvite && paiOf(origInvite).map((v) => v.replace(/\s/g, '')), ['<sip:carol@ims.test>'], 'PAI = carol\'s default IMPU');
  incoming.hangup();
  const byeAnswer = await bob.capture.waitFor((f) => f.direction === 'received' && f.message?.kind === 'response'
    && f.message.status >= 200 && getHeader(f.message, 'CSeq')?.endsWith('BYE') === true, { what: 'final response to bob\'s BYE' });
  t.equal(byeAnswer.message?.kind === 'response' ? `${byeAnswer.message.status} ${byeAnswer.message.reason}` : undefined, '200 OK',
    'bob\'s BYE toward the caller (a spiral through epcscf) was answered 200');
  await outgoing.terminated(2000).catch(() => undefined);
  t.equal(outgoing.session.state, 'Terminated', 'carol\'s SIP.js session terminated on the BYE');
});

t.test('RFC 3261 §9.1 / §16.10: CANCEL before the answer ends the call with 487 through epcscf', async (t) => {
  const rig = await setUp(t);
  const alice = await registeredJsSip(t, rig, 'alice', 'alicepw');
  const bob = await registeredJsSip(t, rig, 'bob');
  const outgoing = alice.call('sip:bob@ims.test');
  const incoming = await bob.nextIncoming();
  await outgoing.progress();
  outgoing.hangup(); // unanswered: CANCEL
  const bobEnd = await incoming.ended();
  t.equal(bobEnd.cause, 'Canceled', 'bob saw the CANCEL');
  const aliceEnd = await outgoing.ended();
  t.equal(aliceEnd.event, 'failed', 'alice\'s call failed');
  await alice.capture.waitFor((f) => f.direction === 'received' && f.message?.kind === 'response' && f.message.status === 487, { what: '487 at alice' });
  t.pass('alice got 487 Request Terminated');
  t.ok(rig.epcscf.capture.requests('mw', 'out', 'CANCEL').length >= 1, 'the CANCEL went out on Mw');
  t.equal(bob.capture.requests('received', 'CANCEL').length, 1, 'bob received one CANCEL');
});

t.test('RFC 3261 §16.7: a 486 from the callee reaches the caller through epcscf', async (t) => {
  const rig = await setUp(t);
  const alice = await registeredJsSip(t, rig, 'alice', 'alicepw');
  const bob = await registeredJsSip(t, rig, 'bob');
  const outgoing = alice.call('sip:bob@ims.test');
  const incoming = await bob.nextIncoming();
  incoming.reject(486);
  const end = await outgoing.ended();
  t.equal(end.event, 'failed');
  t.equal(end.status, 486, 'alice got 486 Busy Here');
  t.ok(rig.epcscf.capture.responses('mw', 'out', 'INVITE').some((r) => r.status === 486), 'the 486 left epcscf on Mw (terminating leg)');
  t.ok(rig.epcscf.capture.responses('mw', 'in', 'INVITE').some((r) => r.status === 486), 'and came back on Mw (originating leg)');
});

t.test('R-ORIG-1: an INVITE from a WebSocket that never registered gets 403, nothing on Mw', async (t) => {
  const rig = await setUp(t);
  const stranger = await JsSipUser.connect({ wsUrl: rig.epcscf.wsUrl, user: 'stranger', password: 'secret' });
  t.teardown(() => stranger.stop());
  const call = stranger.call('sip:bob@ims.test');
  const end = await call.ended();
  t.equal(end.status, 403, '403 Forbidden');
  t.equal(mwInvites(rig.epcscf).length, 0, 'no INVITE left on Mw');
});

t.test('R-ORIG-4: JsSIP calls a sipp UAS through Kamailio (Record-Route honoured, BYE reaches the UAS)', async (t) => {
  const rig = await setUp(t);
  const alice = await registeredJsSip(t, rig, 'alice', 'alicepw');
  const uasPort = await allocatePort();
  const uas = await startSippUas({ port: uasPort, calls: 1 });
  t.teardown(async () => { await uas.stop(); releasePort(uasPort); });

  const outgoing = alice.call(`sip:uas@127.0.0.1:${uasPort}`);
  t.equal(await outgoing.progress(), 180, '180 from the sipp UAS');
  await outgoing.accepted();
  await alice.capture.waitFor((f) => f.direction === 'sent' && f.message?.kind === 'request' && f.message.method === 'ACK', { what: 'ACK from alice' });
  // The sipp UAS scenario is strict (ACK, then BYE): hang up once the ACK has left on Mw.
  await rig.epcscf.capture.waitFor(isRequest('mw', 'out', 'ACK'), { what: 'ACK on Mw' });
  outgoing.hangup();
  const end = await outgoing.ended();
  t.equal(end.event, 'ended');
  const status = await Promise.race([uas.exited, new Promise<undefined>((r) => setTimeout(() => r(undefined), 5000).unref())]);
  t.equal(status?.code, 0, 'the sipp UAS saw INVITE, ACK and BYE and exited cleanly', { sippOutput: uas.output().slice(-1500) });
  const origInvite = mwInvites(rig.epcscf)[0];
  t.equal(origInvite && sipUris(origInvite, 'Route')[0]?.user, 'orig', 'the INVITE was preloaded with the Service-Route');
  const ok = alice.capture.responses('received', 'INVITE').find((r) => r.status === 200);
  t.ok(ok && ownRecordRoutes(ok, rig.epcscf).includes('w2'), 'the 200 at alice keeps our W2 Record-Route entry');
});

t.test('R-TERM-1/3: a sipp UAC calls a JsSIP user via Kamailio; routed by flow token, PAI asserted on 180/200', async (t) => {
  const rig = await setUp(t);
  const bob = await registeredJsSip(t, rig, 'bob');
  const uacPort = await allocatePort();
  t.teardown(() => releasePort(uacPort));
  const sipp = runSipp([`127.0.0.1:${rig.core.port}`, '-sf', SIPP_SCENARIOS.uacRecordRoute, '-s', 'bob', '-key', 'domain', 'ims.test',
    '-m', '1', '-i', '127.0.0.1', '-p', String(uacPort), '-d', '300'], { timeoutMs: 15_000 });
  const incoming = await bob.nextIncoming();
  incoming.answer();
  const run = await sipp;
  t.equal(run.code, 0, 'sipp UAC completed INVITE/180/200/ACK/BYE', { sippOutput: run.stdout.slice(-1500) });
  t.equal(run.stats?.successful, 1, 'one successful call');
  const end = await incoming.ended();
  t.equal(end.originator, 'remote', 'bob got the BYE from sipp');

  const termInvite = rig.epcscf.capture.entries.find(isRequest('mw', 'in', 'INVITE'))?.message;
  t.ok(termInvite, 'the INVITE came in on Mw');
  if (termInvite) {
    const top = sipUris(termInvite, 'Route')[0];
    t.equal(top?.port, rig.epcscf.mwPort, 'Kamailio routed it to our Path URI');
    t.ok(top?.user, 'whose user part is the flow token (R-TERM-1)');
  }
  for (const status of [180, 200]) {
    const response = rig.epcscf.capture.entries.find(isResponse('mw', 'out', 'INVITE', status))?.message;
    t.ok(response, `${status} left on Mw`);
    if (response) t.same(paiOf(response).map((v) => v.replace(/\s/g, '')), ['<sip:bob@ims.test>'], `${status}: PAI asserted (R-TERM-3)`);
  }
});

t.test('R-OB-4: a terminating INVITE for a JsSIP (outbound) user whose WebSocket died gets 430 Flow Failed', async (t) => {
  const rig = await setUp(t);
  const bob = await registeredJsSip(t, rig, 'bob');
  bob.kill();
  await new Promise((r) => setTimeout(r, 200));
  const uacPort = await allocatePort();
  t.teardown(() => releasePort(uacPort));
  const run = await runSipp([`127.0.0.1:${rig.core.port}`, '-sf', SIPP_SCENARIOS.uacRecordRoute, '-s', 'bob', '-key', 'domain', 'ims.test',
    '-m', '1', '-i', '127.0.0.1', '-p', String(uacPort), '-timeout', '6s'], { timeoutMs: 10_000 });
  t.not(run.code, 0, 'the sipp call failed');
  const answer = await rig.epcscf.capture.waitFor(isResponse('mw', 'out', 'INVITE'), { what: 'final answer to the INVITE on Mw' }).catch(() => undefined);
  t.equal(answer?.message.kind === 'response' ? answer.message.status : undefined, 430, 'epcscf answered 430 Flow Failed');
});

t.test('R-TERM-1: a terminating INVITE for a SIP.js user (no outbound) whose WebSocket closed gets 480', async (t) => {
  const rig = await setUp(t);
  const carol = await SipJsUser.connect({ wsUrl: rig.epcscf.wsUrl, user: 'carol', password: 'secret' });
  t.teardown(() => carol.stop());
  t.equal(await carol.register(), 200, 'carol registered without outbound');
  await carol.kill();
  await new Promise((r) => setTimeout(r, 200));
  const uacPort = await allocatePort();
  t.teardown(() => releasePort(uacPort));
  const run = await runSipp([`127.0.0.1:${rig.core.port}`, '-sf', SIPP_SCENARIOS.uacRecordRoute, '-s', 'carol', '-key', 'domain', 'ims.test',
    '-m', '1', '-i', '127.0.0.1', '-p', String(uacPort), '-timeout', '6s'], { timeoutMs: 10_000 });
  t.not(run.code, 0, 'the sipp call failed');
  const answer = await rig.epcscf.capture.waitFor(isResponse('mw', 'out', 'INVITE'), { what: 'final answer to the INVITE on Mw' }).catch(() => undefined);
  t.equal(answer?.message.kind === 'response' ? answer.message.status : undefined, 480, 'epcscf answered 480 Temporarily Unavailable');
});
