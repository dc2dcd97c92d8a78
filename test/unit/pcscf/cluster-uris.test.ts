// Issue #15: the URIs of a clustered node (core/pcscf/own-uris.ts, cluster/cluster-hop.ts,
// routing.ts popOwnRoutes): cluster.mwUri in Path and the Mw Record-Route, accepted as ours;
// another node's W2 Record-Route entry recognised by its verified token; the cluster-hop Route.
import t from 'tap';
import { towardHolder } from '../../../core/pcscf/cluster/cluster-hop.js';
import { FlowTokenCodec } from '../../../core/pcscf/flow-token.js';
import { OwnUris, sharedMwAddress, type OwnAddress } from '../../../core/pcscf/own-uris.js';
import { popOwnRoutes } from '../../../core/pcscf/routing.js';
import { createRequest, getHeaders, parseUri } from '../../../core/sip/index.js';

const SECRET = 'unit-cluster-secret-of-32-characters!!';
const mw: OwnAddress[] = [{ transport: 'udp', host: '10.0.0.2', port: 5060 }];
const w2: OwnAddress = { transport: 'ws', host: '10.0.0.2', port: 8080 };
const shared = sharedMwAddress(parseUri('sip:pcscf.ims.example;transport=tcp'));

function invite(routes: string[]) {
  return createRequest({ method: 'INVITE', uri: 'sip:alice@x.invalid;transport=ws', headers: [
    ['Via', 'SIP/2.0/UDP 10.0.0.9;branch=z9hG4bKc1'], ['From', '<sip:carol@ims.test>;tag=c'], ['To', '<sip:alice@ims.test>'],
    ['Call-ID', 'u1'], ['CSeq', '1 INVITE'], ...routes.map((r): [string, string] => ['Route', r]),
  ] });
}

t.test('default (no cluster.mwUri): Path and Record-Route name our own Mw address, as before', async (t) => {
  const uris = new OwnUris(mw, w2, new FlowTokenCodec(SECRET));
  t.equal(uris.path('TOKEN', true), '<sip:TOKEN@10.0.0.2:5060;lr;ob>');
  t.equal(uris.mwRecordRoute(), '<sip:10.0.0.2:5060;lr>');
});

t.test('cluster.mwUri: Path carries it with the flow token; the Mw Record-Route carries it without flow data (R-ORIG-3); both are ours', async (t) => {
  const uris = new OwnUris(mw, w2, new FlowTokenCodec(SECRET), { ...(shared ? { shared } : {}), peerW2Entries: true });
  t.equal(uris.path('TOKEN', true), '<sip:TOKEN@pcscf.ims.example;transport=tcp;lr;ob>', 'no port: the SRV name as configured');
  t.equal(uris.mwRecordRoute(), '<sip:pcscf.ims.example;transport=tcp;lr>');
  t.ok(uris.isOwn(parseUri('sip:pcscf.ims.example;transport=tcp;lr')), 'the shared address is ours');
  t.ok(uris.isOwn(parseUri('sip:10.0.0.2:5060;lr')), 'and our own Mw address still is');
  t.notOk(uris.isOwn(parseUri('sip:scscf.ims.example;lr')));
});

t.test('another node\'s W2 Record-Route entry is ours in a cluster when its token verifies, never otherwise', async (t) => {
  const codec = new FlowTokenCodec(SECRET);
  const token = codec.encode({ nodeId: 'node-b', flow: 7 });
  const peerEntry = `sip:${token}@10.0.0.3:8080;transport=ws;lr`;
  const clustered = new OwnUris(mw, w2, codec, { peerW2Entries: true });
  t.ok(clustered.isOwn(parseUri(peerEntry)), 'node B\'s W2 entry, token signed with the cluster\'s flowSecret');
  t.notOk(clustered.isOwn(parseUri(`sip:${new FlowTokenCodec('another-secret-another-secret-another!').encode({ nodeId: 'x', flow: 1 })}@10.0.0.3:8080;transport=ws;lr`)), 'a token of another secret is not');
  t.notOk(clustered.isOwn(parseUri(`sip:${token}@10.0.0.3:5060;lr`)), 'nor an entry that is not a W2 (ws) one');
  t.notOk(new OwnUris(mw, w2, codec).isOwn(parseUri(peerEntry)), 'a single node does not take other nodes\' entries');

  const popped = popOwnRoutes(invite([`<sip:10.0.0.2:5060;lr>`, `<${peerEntry}>`, '<sip:scscf.ims.example;lr>']), clustered);
  t.same(popped.flow, { nodeId: 'node-b', flow: 7 }, 'popping our Mw entry and B\'s W2 entry names B\'s flow');
  t.same(getHeaders(popped.request, 'Route'), ['<sip:scscf.ims.example;lr>']);
  t.equal(popped.clusterHop, false);
});

t.test('the cluster hop: a Route to the holder with the token (and ;ob), which the holder pops as its own and never forwards again', async (t) => {
  const codec = new FlowTokenCodec(SECRET);
  const token = codec.encode({ nodeId: 'node-b', flow: 7 });
  const hop = towardHolder(invite([]), 'sip:10.0.0.3:5060;transport=udp', token, true);
  t.same(hop && getHeaders(hop, 'Route'), [`<sip:${token}@10.0.0.3:5060;transport=udp;lr;ob;cluster-hop>`]);
  const holder = new OwnUris([{ transport: 'udp', host: '10.0.0.3', port: 5060 }], { transport: 'ws', host: '10.0.0.3', port: 8080 }, codec, { peerW2Entries: true });
  const popped = hop && popOwnRoutes(hop, holder);
  t.same(popped?.flow, { nodeId: 'node-b', flow: 7 });
  t.equal(popped?.outbound, true, ';ob survives the hop (430 if the flow is gone)');
  t.equal(popped?.clusterHop, true, 'marked: a request that crossed a cluster hop is never forwarded again');
  t.equal(towardHolder(invite([]), 'tel:+1555', token, false), undefined, 'a holder contact that is not a SIP URI: no hop');
});
