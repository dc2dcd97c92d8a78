// The P-CSCF procedures end to end on real sockets (test/support/pcscf-rig.ts: an in-memory W2
// session and a fake IMS core on UDP). The same rules are proven against Kamailio,
// JsSIP and sipp in test/interop/; this file pins each rule on the exact messages.
import t from 'tap';
import {
  createRequest, createResponse, getHeader, getHeaders, nameAddrList, parseMessage, setHeader, tagOf, to, vias, chargingVector,
  type SipMessage, type SipRequest,
} from '../../core/sip/index.js';
import { invite, register, registered, setup, wicVia } from '../support/pcscf-rig.js';

t.test('R-REG-11..16: the REGISTER toward the IMS carries Path with flow token and ;ob, path tags, PVNI, icid; no Security-*', async (t) => {
  const { core, pcscf } = await setup(t);
  await pcscf.fromClient('conn-1', register(1));
  const atCore = await core.request('REGISTER');
  const path = nameAddrList(atCore, 'Path')[0]!;
  t.ok(path.uri.kind === 'sip' && path.uri.user && path.uri.user.length > 10, 'R-REG-11: a flow token in the Path user part');
  t.ok(path.uri.kind === 'sip' && path.uri.params.some((p) => p.name === 'lr') && path.uri.params.some((p) => p.name === 'ob'), 'RFC 5626 §5.1: lr and ob');
  t.ok(getHeaders(atCore, 'Require').includes('path'), 'R-REG-12: Require: path');
  t.ok(getHeaders(atCore, 'Supported').includes('path'));
  t.notOk(getHeaders(atCore, 'Require').includes('sec-agree'), 'R-REG-15: sec-agree removed');
  t.equal(getHeader(atCore, 'Proxy-Require'), undefined, 'R-REG-15: emptied Proxy-Require dropped');
  t.equal(getHeader(atCore, 'Security-Client'), undefined, 'R-REG-15: Security-Client removed');
  t.equal(getHeader(atCore, 'P-Visited-Network-ID'), 'epcscf.test', 'R-REG-13');
  t.ok(chargingVector(atCore)?.icidValue, 'R-REG-14: icid-value');
  t.equal(getHeader(atCore, 'P-Asserted-Identity'), undefined, 'a client PAI never reaches the IMS');
  t.ok(atCore.uri.kind === 'sip' && !atCore.uri.params.some((p) => p.name === 'transport'), 'R-REG-16: no transport in the R-URI');
  t.equal(vias(atCore).length, 2, 'our Via on top of the WIC Via');
  t.equal(vias(atCore)[0]?.transport, 'UDP');
});

t.test('R-REG-7: a 401 challenge is relayed; R-REG-19: a 408 becomes 504', async (t) => {
  const { core, pcscf, wic } = await setup(t);
  await pcscf.fromClient('conn-1', register(1));
  core.answer(await core.request('REGISTER'), 401, { headers: [['WWW-Authenticate', 'Digest realm="ims.test", nonce="abc", qop="auth", algorithm=MD5']] });
  const challenge = await wic.response(401, 'REGISTER');
  t.match(getHeader(challenge, 'WWW-Authenticate') ?? '', /nonce="abc"/);
  t.equal(vias(challenge).length, 1, 'our Via removed (RFC 3261 §16.7)');
  await pcscf.fromClient('conn-1', register(2));
  core.answer(await core.request('REGISTER'), 408);
  t.ok(await wic.response(504, 'REGISTER'), '408 → 504');
});

t.test('R-ORIG-1: an initial request from an unregistered flow gets 403', async (t) => {
  const { pcscf, wic } = await setup(t);
  await pcscf.fromClient('conn-1', createRequest({ method: 'INVITE', uri: 'sip:bob@ims.test', headers: [
    ['Via', wicVia('inv1')], ['Max-Forwards', '70'], ['From', '<sip:alice@ims.test>;tag=a'], ['To', '<sip:bob@ims.test>'],
    ['Call-ID', 'inv-unreg'], ['CSeq', '1 INVITE'], ['Contact', '<sip:alice@df7jal23ls0d.invalid;transport=ws;ob>'],
  ] }));
  t.ok(await wic.response(403, 'INVITE'));
});

t.test('R-ORIG-2..5: PAI from PPI when associated, Route = Service-Route, double Record-Route, icid', async (t) => {
  const { core, pcscf, wic } = await registered(t);
  await pcscf.fromClient('conn-1', invite(undefined, [['P-Preferred-Identity', '<sip:+15550100@ims.test;user=phone>'], ['P-Asserted-Identity', '<sip:boss@ims.test>']]));
  const atCore = await core.request('INVITE');
  t.same(getHeaders(atCore, 'P-Asserted-Identity'), ['<sip:+15550100@ims.test;user=phone>'], 'R-ORIG-2: exactly one PAI, from the PPI');
  t.equal(getHeader(atCore, 'P-Preferred-Identity'), undefined, 'R-ORIG-2: PPI removed');
  t.same(getHeaders(atCore, 'Route'), [`<sip:orig@127.0.0.1:${core.port};lr>`], 'R-ORIG-4: Route replaced by the Service-Route');
  const rr = nameAddrList(atCore, 'Record-Route');
  t.equal(rr.length, 2, 'R-SIPWS-12: double Record-Route');
  t.ok(rr[0]?.uri.kind === 'sip' && rr[0].uri.user === undefined, 'R-ORIG-3: the Mw entry (top) carries no flow data');
  t.ok(rr[1]?.uri.kind === 'sip' && rr[1].uri.params.some((p) => p.name === 'transport' && p.value === 'ws') && rr[1].uri.user, 'the W2 entry carries the flow token, transport=ws');
  t.ok(chargingVector(atCore)?.icidValue, 'R-ORIG-5: icid');
  t.equal(getHeader(atCore, 'Max-Forwards'), '69');
  // answer: 180 and 200 travel back; our Via is gone
  core.answer(atCore, 180, { toTag: 'b1' });
  const ringing = await wic.response(180, 'INVITE');
  t.equal(vias(ringing).length, 1);
  core.answer(atCore, 200, { toTag: 'b1', headers: [['Contact', `<sip:bob@127.0.0.1:${core.port}>`], ['Record-Route', getHeaders(atCore, 'Record-Route').join(', ')]] });
  await wic.response(200, 'INVITE');
  const dialogs = await pcscf.dialogs.all();
  t.equal(dialogs.length, 1, 'R-ORIG-9: the dialog is remembered');
  t.equal(dialogs[0]?.state, 'confirmed');
});

t.test('R-ORIG-2: a PPI outside the associated set is ignored; the default IMPU is asserted', async (t) => {
  const { core, pcscf } = await registered(t);
  await pcscf.fromClient('conn-1', invite(undefined, [['P-Preferred-Identity', '<sip:ceo@ims.test>']]));
  const atCore = await core.request('INVITE');
  t.same(getHeaders(atCore, 'P-Asserted-Identity'), ['<sip:alice@ims.test>']);
});

t.test('R-TERM-1..3: a terminating INVITE follows the Path token to the WIC, gets double RR, PAI asserted on 200', async (t) => {
  const { core, pcscf, wic, registerAtCore } = await registered(t);
  const path = getHeader(registerAtCore, 'Path')!;
  const inbound = createRequest({ method: 'INVITE', uri: 'sip:alice@df7jal23ls0d.invalid;transport=ws', headers: [
    ['Via', `SIP/2.0/UDP 127.0.0.1:${core.port};branch=z9hG4bKterm1`], ['Max-Forwards', '68'], ['Route', path],
    ['Record-Route', `<sip:127.0.0.1:${core.port};lr>`], ['From', '<sip:carol@ims.test>;tag=c1'], ['To', '<sip:alice@ims.test>'],
    ['Call-ID', 'term-1'], ['CSeq', '1 INVITE'], ['Contact', `<sip:carol@127.0.0.1:${core.port}>`], ['P-Asserted-Identity', '<sip:carol@ims.test>'],
  ] });
  core.send(inbound, { host: '127.0.0.1', port: pcscf.mwAddresses[0]!.port });
  const atWic = await wic.next<SipRequest>((m) => m.kind === 'request' && m.method === 'INVITE');
  t.equal(getHeader(atWic, 'Route'), undefined, 'our Path entry popped');
  const rr = nameAddrList(atWic, 'Record-Route');
  t.equal(rr.length, 3, 'R-TERM-2: two of ours on top of the core entry');
  t.ok(rr[0]?.uri.kind === 'sip' && rr[0].uri.params.some((p) => p.value === 'ws'), 'the W2 entry faces the WIC');
  t.equal(vias(atWic)[0]?.transport, 'WS', 'RFC 7118 §5: our Via says WS');
  t.equal(getHeader(atWic, 'P-Asserted-Identity'), '<sip:carol@ims.test>', 'the caller identity reaches the WIC');
  await pcscf.fromClient('conn-1', createResponse(atWic, 200, 'OK', { toTag: 'w1', headers: [['P-Asserted-Identity', '<sip:admin@ims.test>'], ['Contact', '<sip:alice@df7jal23ls0d.invalid;transport=ws>']] }));
  const ok = await core.response(200, 'INVITE');
  t.same(getHeaders(ok, 'P-Asserted-Identity'), ['<sip:alice@ims.test>'], 'R-TERM-3: the registered identity, not the client claim');
  t.equal(vias(ok).length, 1);
});

t.test('R-OB-4: a terminating request for a closed flow gets 430; a forged token gets 403', async (t) => {
  const { core, pcscf, registerAtCore } = await registered(t);
  const path = getHeader(registerAtCore, 'Path')!;
  await pcscf.sessionClosed('conn-1', { cause: 'remote', code: 1006, reason: '' });
  const mk = (route: string, id: string) => createRequest({ method: 'MESSAGE', uri: 'sip:alice@df7jal23ls0d.invalid', headers: [
    ['Via', `SIP/2.0/UDP 127.0.0.1:${core.port};branch=z9hG4bK${id}`], ['Max-Forwards', '68'], ['Route', route],
    ['From', '<sip:carol@ims.test>;tag=c2'], ['To', '<sip:alice@ims.test>'], ['Call-ID', id], ['CSeq', '1 MESSAGE'],
  ] });
  core.send(mk(path, 'dead1'), { host: '127.0.0.1', port: pcscf.mwAddresses[0]!.port });
  t.ok(await core.response(430, 'MESSAGE'), 'dead outbound flow → 430 Flow Failed');
  const forged = path.replace(/sip:([^@]+)@/, (_m, tok: string) => `sip:${tok.slice(0, -2)}AA@`);
  core.send(mk(forged, 'forged1'), { host: '127.0.0.1', port: pcscf.mwAddresses[0]!.port });
  t.ok(await core.response(403, 'MESSAGE'), 'tampered token → 403 (RFC 5626 §5.3)');
  t.equal((await pcscf.registrations.all()).length, 0, 'the flow\'s bindings are gone');
});

t.test('R-ORIG-9: when the W2 connection dies, a confirmed call is released with BYE toward the IMS', async (t) => {
  const { core, pcscf, wic } = await registered(t);
  await pcscf.fromClient('conn-1', invite());
  const atCore = await core.request('INVITE');
  core.answer(atCore, 200, { toTag: 'b9', headers: [['Contact', `<sip:bob@127.0.0.1:${core.port}>`], ['Record-Route', getHeaders(atCore, 'Record-Route').join(', ')]] });
  await wic.response(200, 'INVITE');
  // sessionClosed settles once its BYE is answered: read and answer the BYE meanwhile.
  const closing = pcscf.sessionClosed('conn-1', { cause: 'remote', code: 1006, reason: '' });
  const bye = await core.request('BYE');
  t.equal(getHeader(bye, 'Call-ID'), 'call-a');
  t.equal(tagOf(to(bye)), 'b9');
  t.match(getHeader(bye, 'From') ?? '', /tag=a1/);
  t.match(getHeader(bye, 'CSeq') ?? '', /^11 BYE$/);
  t.match(getHeader(bye, 'Reason') ?? '', /cause=480/);
  core.answer(bye, 200);
  await closing;
});

t.test('Admin terminate: an operator-ended call gets BYE toward the IMS and the WIC with Reason Q.850 cause 16 (RFC 3326)', async (t) => {
  const { core, pcscf, wic } = await registered(t);
  await pcscf.fromClient('conn-1', invite());
  const atCore = await core.request('INVITE');
  core.answer(atCore, 180, { toTag: 'b9', headers: [['Contact', `<sip:bob@127.0.0.1:${core.port}>`], ['Record-Route', getHeaders(atCore, 'Record-Route').join(', ')]] });
  await wic.response(180, 'INVITE');
  const [early] = await pcscf.dialogs.byCallId('call-a');
  await t.rejects(pcscf.terminateDialog(early!.id), { code: 'EPC_ERR_INVALID_STATE' }, 'an early dialog is the client\'s to cancel');
  core.answer(atCore, 200, { toTag: 'b9', headers: [['Contact', `<sip:bob@127.0.0.1:${core.port}>`], ['Record-Route', getHeaders(atCore, 'Record-Route').join(', ')]] });
  await wic.response(200, 'INVITE');
  const [dialog] = await pcscf.dialogs.byCallId('call-a');
  t.equal(await pcscf.terminateDialog('no such dialog'), false);
  const ended = pcscf.terminateDialog(dialog!.id, 'fraud "check"');
  const bye = await core.request('BYE');
  t.equal(tagOf(to(bye)), 'b9');
  t.equal(getHeader(bye, 'Reason'), 'Q.850;cause=16;text="fraud check"');
  core.answer(bye, 200);
  const byeToWic = await wic.next<SipRequest>((m) => m.kind === 'request' && m.method === 'BYE');
  t.match(getHeader(byeToWic, 'From') ?? '', /tag=b9/, 'the BYE toward the WIC comes from the remote party');
  t.equal(getHeader(byeToWic, 'Reason'), 'Q.850;cause=16;text="fraud check"');
  await pcscf.fromClient('conn-1', createResponse(byeToWic, 200));
  t.equal(await ended, true);
  t.same(await pcscf.dialogs.byCallId('call-a'), [], 'the dialog is forgotten');
});

const withHeader = <M extends SipMessage>(msg: M, name: string, value: string): M => setHeader(msg, name, value);

t.test('RFC 3261 §16.3/§16.10: 483 on Max-Forwards 0, 416 for an unknown scheme, 420 for Proxy-Require, CANCEL relayed', async (t) => {
  const { core, pcscf, wic } = await registered(t);
  await pcscf.fromClient('conn-1', withHeader(withHeader(invite(), 'Max-Forwards', '0'), 'Via', wicVia('mf0')));
  t.ok(await wic.response(483, 'INVITE'), '483 Too Many Hops');
  await pcscf.fromClient('conn-1', { ...withHeader(invite(), 'Via', wicVia('s416')), uri: { kind: 'absolute', scheme: 'nobodyknows', opaque: 'x' } });
  t.ok(await wic.response(416, 'INVITE'), '416 Unsupported URI Scheme');
  await pcscf.fromClient('conn-1', createRequest({ method: 'OPTIONS', uri: 'sip:bob@ims.test', headers: [
    ['Via', wicVia('opt')], ['From', '<sip:alice@ims.test>;tag=o'], ['To', '<sip:bob@ims.test>'], ['Call-ID', 'o1'], ['CSeq', '1 OPTIONS'], ['Proxy-Require', 'foo, sec-agree'],
  ] }));
  const bad = await wic.response(420, 'OPTIONS');
  t.equal(getHeader(bad, 'Unsupported'), 'foo');
  const inv = withHeader(withHeader(withHeader(invite(), 'Via', wicVia('cx1')), 'Call-ID', 'cancel-me'), 'From', '<sip:alice@ims.test>;tag=cx');
  await pcscf.fromClient('conn-1', inv);
  const atCore = await core.request('INVITE');
  core.answer(atCore, 180, { toTag: 'r1' });
  await wic.response(180, 'INVITE');
  const cancel = parseMessage(['CANCEL sip:bob@ims.test SIP/2.0', `Via: ${wicVia('cx1')}`, 'Max-Forwards: 70', 'From: <sip:alice@ims.test>;tag=cx', 'To: <sip:bob@ims.test>', 'Call-ID: cancel-me', 'CSeq: 10 CANCEL', '', ''].join('\r\n')) as SipRequest;
  await pcscf.fromClient('conn-1', cancel);
  t.ok(await wic.response(200, 'CANCEL'), 'the CANCEL is answered hop by hop');
  const cancelAtCore = await core.request('CANCEL');
  t.equal(getHeader(cancelAtCore, 'Call-ID'), 'cancel-me', 'RFC 3261 §16.10: CANCEL sent for the forwarded branch');
  core.answer(cancelAtCore, 200);
  core.answer(atCore, 487, { toTag: 'r1' });
  t.ok(await wic.response(487, 'INVITE'), '487 relayed');
});

t.test('RFC 3261 §16.3 step 4: a request that comes back with our Via and the same loop hash gets 482 (spirals: see dev-ims-core-call)', async (t) => {
  const { core, pcscf } = await registered(t);
  await pcscf.fromClient('conn-1', withHeader(invite(), 'Via', wicVia('loop1')));
  const atCore = await core.request('INVITE');
  // The same request comes back through the same upstream hop (its Via on top again, ours below): a loop.
  const looped = withHeader(atCore, 'Via', [`${wicVia('loop1')};rport`, ...getHeaders(atCore, 'Via')].join(', '));
  core.send(looped, { host: '127.0.0.1', port: pcscf.mwAddresses[0]!.port });
  t.ok(await core.response(482, 'INVITE'), '482 Loop Detected');
  core.answer(atCore, 486, { toTag: 'busy' });
});

t.test('RFC 3261 §18.2.2: a stray response from Mw is routed back to the flow by our Via (ftok)', async (t) => {
  const { core, pcscf, wic } = await registered(t);
  await pcscf.fromClient('conn-1', withHeader(invite(), 'Via', wicVia('stray1')));
  const atCore = await core.request('INVITE');
  const ours = getHeaders(atCore, 'Via')[0]!;
  t.match(ours, /;ftok=[A-Za-z0-9_-]+/, 'our Via names the flow');
  core.answer(atCore, 200, { toTag: 's1', headers: [['Contact', `<sip:bob@127.0.0.1:${core.port}>`]] });
  await wic.response(200, 'INVITE');
  // A 200 for a transaction nobody has (other branch): forwarded statelessly by Via.
  const stray = withHeader(createResponse(atCore, 200, 'OK', { toTag: 's1' }), 'Via', [ours.replace(/branch=[^;]+/, 'branch=z9hG4bKnotours'), getHeaders(atCore, 'Via')[1]!].join(', '));
  core.send(stray);
  const relayed = await wic.response(200, 'INVITE');
  t.equal(vias(relayed).length, 1, 'our Via popped');
});
