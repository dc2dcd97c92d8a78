/**
 * The conformance suite's media variant (issue #12: "session cleanup of registrations/dialogs/
 * media"): the same runtime with our media-gw in this process, for every plugin row that makes
 * calls (sip-ws, jsonrpc-ws, xmpp-ws with Jingle). The clients offer and answer WebRTC SDP (ICE,
 * DTLS-SRTP) as a browser does, so the IMS-ALG anchors the call on the gateway; a connection
 * dropped in the call leaves no media leg.
 */
import { readFileSync } from 'node:fs';
import t from 'tap';
import { gatewayAnswer, readOffer } from '../support/webrtc/gateway-sdp.js';
import { ConformanceClient } from './conformance-client.js';
import { startConformanceBed } from './conformance-rig.js';
import { PLUGIN_TABLE, type CallSdp } from './plugin-table.js';

const CHROME_AUDIO_OFFER = readFileSync(new URL('../fixtures/sdp/chrome-audio-offer.sdp', import.meta.url), 'utf8');
const WEBRTC_CALL: CallSdp = {
  offer: CHROME_AUDIO_OFFER,
  answer: gatewayAnswer({
    address: { address: '127.0.0.1', port: 40100 }, ice: { ufrag: 'ansU', pwd: 'answerpasswordanswerpass' },
    fingerprint: { algorithm: 'sha-256', value: Array.from({ length: 32 }, (_, i) => (i + 16).toString(16).toUpperCase()).join(':') },
    setup: 'active', mid: readOffer(CHROME_AUDIO_OFFER).mid, ssrc: 4242,
  }),
};

const rows = PLUGIN_TABLE.filter((row) => row.register !== undefined && row.call !== undefined);
const bed = await startConformanceBed(rows, { media: 'in-process' });
t.teardown(() => bed.close());
const w2 = bed.runtime.server.w2;
const pcscf = bed.runtime.pcscf;

async function until(what: string, predicate: () => boolean | Promise<boolean>, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

t.ok(rows.length >= 3, `rows that make calls: ${rows.map((row) => row.name).join(', ')}`);

for (const row of rows) {
  const route = bed.runtime.server.plugins.routes.find((r) => r.plugin.name === row.name);
  if (route === undefined) throw new Error(`${row.name} has no route`);
  const url = `${bed.base}${route.path}`;
  const open = async (): Promise<{ client: ConformanceClient; id: string }> => {
    const before = new Set(w2.sessions().map((s) => s.id));
    const client = await ConformanceClient.connect(url, route.subprotocols[0] ?? '');
    await until('the session is listed', () => w2.sessions().some((s) => !before.has(s.id) && s.plugin === row.name));
    return { client, id: w2.sessions().find((s) => !before.has(s.id) && s.plugin === row.name)?.id ?? '' };
  };

  t.test(`${row.name}: R-ORIG-9 — with media-gw, a connection dropped in a call leaves no media leg on the gateway and no dialog`, async (t) => {
    const { register, call } = row;
    if (register === undefined || call === undefined) throw new Error('filtered above');
    const caller = await open();
    const callee = await open();
    t.teardown(() => callee.client.terminate());
    const bob = { user: 'bob', password: 'bobpw' };
    await register(caller.client, { user: 'alice', password: 'alicepw' });
    await register(callee.client, bob);
    const legsBefore = pcscf.mediaLegCount;
    const calleeSeesTheEnd = await call(caller.client, callee.client, bob, WEBRTC_CALL);
    t.ok(pcscf.mediaLegCount > legsBefore, `the IMS-ALG anchored the call on the gateway (${pcscf.mediaLegCount} media legs)`);
    caller.client.terminate();
    await calleeSeesTheEnd();
    await until('the dialog is released', async () => (await pcscf.dialogs.all()).length === 0);
    await until('the media legs are released', () => pcscf.mediaLegCount === 0);
    t.equal(pcscf.mediaLegCount, 0, 'no media leg is left on the gateway');
    callee.client.terminate();
  });
}
