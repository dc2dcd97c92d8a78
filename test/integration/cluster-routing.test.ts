// Issue #15 "Several nodes" / "Faults" in one process: two P-CSCF nodes over one shared state
// backend (a MemoryStateBackend stands in for Redis here; the interop test uses real Redis), a fake
// IMS core, and cluster.mwUri naming node A: every Path and Mw Record-Route points at A, and A
// forwards what belongs to B's flows to B. A survivor releases a dead node's calls toward the IMS.
import t from 'tap';
import { createRequest, createResponse, getHeader, getHeaders, splitList, type SipRequest, type SipResponse } from '../../core/sip/index.js';
import { registerOn, terminatingInvite, twoNodeCluster as cluster } from '../support/cluster-rig.js';

t.test('issue #15: Path and the Mw Record-Route carry cluster.mwUri; a terminating call for a flow node B holds reaches B through A, and its dialog works both ways', async (t) => {
  const { core, a, b, portA, portB } = await cluster(t);
  const { wic, path } = await registerOn(b, 'conn-b', core);
  t.match(path, new RegExp(`^<sip:[A-Za-z0-9_-]+@127\\.0\\.0\\.1:${portA};lr;ob>$`), 'B writes the shared mwUri (node A) with its flow token in Path');

  core.send(terminatingInvite(core, path, 'cl-1'), { host: '127.0.0.1', port: portA });
  const atWic = await wic.next<SipRequest>((m) => m.kind === 'request' && m.method === 'INVITE');
  t.ok(getHeaders(atWic, 'Via').some((v) => v.includes(`127.0.0.1:${portA}`)), 'A forwarded it to B as a proxy (its Via is on it)');
  const recordRoute = getHeaders(atWic, 'Record-Route').join(', ');
  t.match(recordRoute, new RegExp(`<sip:127\\.0\\.0\\.1:${portA};lr>`), 'B record-routes the shared mwUri on Mw, without flow data (R-ORIG-3)');
  t.notMatch(recordRoute, new RegExp(`:${portB}`), 'B\'s own Mw address is not in the dialog route');

  await b.fromClient('conn-b', createResponse(atWic, 200, 'OK', { toTag: 'w1', headers: [
    ['Contact', '<sip:alice@df7jal23ls0d.invalid;transport=ws>'], ...getHeaders(atWic, 'Record-Route').map((r): [string, string] => ['Record-Route', r]), // RFC 3261 §12.1.1
  ] }));
  const ok = await core.response(200, 'INVITE');
  t.equal(getHeaders(ok, 'Via').length, 1, 'the 200 came back through A and B with their Vias popped');
  const dialogRoute = getHeaders(ok, 'Record-Route').flatMap((v) => splitList(v));
  t.ok(dialogRoute.length >= 2, `the 200 carries the Record-Route set: ${dialogRoute.join(' | ')}`);

  // The IMS sends in-dialog requests along the recorded route: first our Mw entry (node A).
  const routeSet = dialogRoute.filter((r) => !r.includes(`:${core.port};`));
  const inDialog = (method: string, seq: number): SipRequest => createRequest({ method, uri: 'sip:alice@df7jal23ls0d.invalid;transport=ws', headers: [
    ['Via', `SIP/2.0/UDP 127.0.0.1:${core.port};branch=z9hG4bKcl-1-${method}`], ['Max-Forwards', '68'], ...routeSet.map((r): [string, string] => ['Route', r]),
    ['From', '<sip:carol@ims.test>;tag=c1'], ['To', '<sip:alice@ims.test>;tag=w1'], ['Call-ID', 'cl-1'], ['CSeq', `${seq} ${method}`],
  ] });
  core.send(inDialog('ACK', 1), { host: '127.0.0.1', port: portA });
  t.ok(await wic.next((m) => m.kind === 'request' && m.method === 'ACK'), 'the ACK of the 2xx reaches B\'s WIC through A');
  core.send(inDialog('BYE', 2), { host: '127.0.0.1', port: portA });
  const bye = await wic.next<SipRequest>((m) => m.kind === 'request' && m.method === 'BYE');
  await b.fromClient('conn-b', createResponse(bye, 200, 'OK'));
  t.equal((await core.response(200, 'BYE')).status, 200, 'the BYE from the IMS reached B\'s WIC and its 200 came back');
  t.equal((await a.dialogs.all()).length, 0, 'the dialog is gone from the shared store');
});

t.test('RFC 5626 §5.3 in a cluster: no node holds the flow → 430; a request that already crossed a cluster hop is never forwarded again', async (t) => {
  const { core, b, portA, portB } = await cluster(t);
  const { path } = await registerOn(b, 'conn-b', core);
  await b.sessionClosed('conn-b', { code: 1000, reason: 'bye' } as never);
  core.send(terminatingInvite(core, path, 'cl-2'), { host: '127.0.0.1', port: portA });
  t.equal((await core.response(430, 'INVITE')).reason, 'Flow Failed', 'the flow is gone from the directory: A answers 430 itself');

  const { path: path2 } = await registerOn(b, 'conn-b2', core);
  const token = /<sip:([^@]+)@/.exec(path2)?.[1] ?? '';
  // A copy sent to B as if another node had forwarded it, but for a flow B does not hold (A's number space).
  const forged = `<sip:${token}@127.0.0.1:${portB};lr;ob;cluster-hop>`;
  await b.sessionClosed('conn-b2', { code: 1000, reason: 'bye' } as never);
  core.send(terminatingInvite(core, forged, 'cl-3'), { host: '127.0.0.1', port: portB });
  const refused = await core.next<SipResponse>((m) => m.kind === 'response' && m.status >= 400);
  t.equal(refused.status, 430, 'a cluster-hop copy whose flow is gone gets 430 at once, no second hop');
});

t.test('issue #15 Faults: a node that stops heartbeating with a live call has it released toward the IMS by a survivor (BYE from the stored dialog), its flows, bindings and media legs dropped', async (t) => {
  const { core, state, a } = await cluster(t);
  let cleaned: unknown;
  const done = new Promise<void>((resolve) => { if (a.clusterMembership) a.clusterMembership.onCleanup = (c) => { cleaned = c; resolve(); }; });
  // The ghost node: it heartbeated, claimed a flow, had a confirmed call and a media leg, then died.
  await state.nodes.heartbeat({ nodeId: 'ghost', mwContact: 'sip:127.0.0.1:9', startedAt: 1 }, 300);
  await state.flows.claim('ghost/1', 'ghost', 60_000);
  await state.registrations.put({
    id: 'ghost/1 sip:bob@ims.test sip:bob@x.invalid', aor: 'sip:bob@ims.test', flowKey: 'ghost/1', contact: '<sip:bob@x.invalid>', contactUri: 'sip:bob@x.invalid',
    outbound: true, serviceRoute: [], associatedUris: ['sip:bob@ims.test'], expiresAt: Date.now() + 600_000, registeredBy: 'client',
  });
  await state.dialogs.put({
    id: 'ghost-call b1', callId: 'ghost-call', wicTag: 'b1', remoteTag: 'c9', flowKey: 'ghost/1', direction: 'originating', method: 'INVITE', state: 'confirmed',
    wicNameAddr: '<sip:bob@ims.test>;tag=b1', remoteNameAddr: '<sip:carol@ims.test>;tag=c9', remoteTarget: `sip:carol@127.0.0.1:${core.port}`,
    routeSetTowardIms: [`<sip:127.0.0.1:${core.port};lr>`], wicCseq: 7, createdAt: 1,
  });
  await state.mediaLegs.put({ ngCallId: 'ghost-leg', nodeId: 'ghost', gateway: 'in-process', createdAt: 1 });
  const started = Date.now();
  const bye = await core.next<SipRequest>((m) => m.kind === 'request' && m.method === 'BYE', 5000);
  t.ok(Date.now() - started < 3000, 'within a few heartbeats of the death (3 × 0.2 s here)');
  t.equal(getHeader(bye, 'Call-ID'), 'ghost-call');
  t.equal(getHeader(bye, 'CSeq'), '8 BYE', 'the next CSeq on the dead node\'s side of the dialog');
  t.match(getHeader(bye, 'From') ?? '', /tag=b1/);
  t.match(getHeader(bye, 'To') ?? '', /tag=c9/);
  t.match(getHeader(bye, 'Reason') ?? '', /cause=480;text="P-CSCF node failed"/, 'RFC 3326 Reason says why');
  await done;
  t.same(cleaned, { nodeId: 'ghost', flows: 1, byes: 1, mediaLegs: 1 });
  t.same(await state.dialogs.all(), [], 'the dead node\'s dialog is gone');
  t.same(await state.registrations.byFlow('ghost/1'), [], 'its bindings are gone (terminating requests now get 430)');
  t.equal(await state.flows.holder('ghost/1'), undefined);
  t.same(await state.mediaLegs.byNode('ghost'), []);
  t.same(await state.nodes.dead(), [], 'and the dead node is forgotten');
});

t.test('issue #15: each node claims the flows it holds and releases them when they end; a closed node leaves the directory', async (t) => {
  const { core, state, b } = await cluster(t);
  const { wic } = await registerOn(b, 'conn-b', core);
  await new Promise((r) => setTimeout(r, 20));
  t.same(await state.flows.heldBy('node-b'), b.flows().map((f) => f.flow), 'B claimed its flow');
  t.match(b.flows()[0]?.flow, /^node-b\/\d{13,}$/, 'numbered from the node\'s start time: a restart under the same node id never reuses a flow key (its old bindings and Path tokens outlive it)');
  t.same((await state.nodes.live()).map((n) => n.nodeId).sort(), ['node-a', 'node-b']);
  t.match((await state.nodes.get('node-b'))?.mwContact ?? '', /^sip:127\.0\.0\.1:\d+;transport=udp$/, 'B\'s NodeRecord carries its own Mw contact');
  await b.sessionClosed(wic.connection.id, { code: 1000, reason: 'bye' } as never);
  t.same(await state.flows.heldBy('node-b'), [], 'the ended flow left the directory');
  await b.close();
  t.same((await state.nodes.live()).map((n) => n.nodeId), ['node-a'], 'a node that closed is forgotten at once');
});
