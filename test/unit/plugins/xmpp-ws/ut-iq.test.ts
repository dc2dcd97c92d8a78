// xmpp-ws <ut xmlns='urn:epcscf:mmtel:0'/> IQs (TS 24.623 Ut, mmtel/ut.ts) with a scripted UE and
// a scripted Ut: the IQ becomes one Ut request, the XCAP answer a result with the element inside,
// and core/ut refusals the documented stanza errors.
import t from 'tap';
import { pino } from 'pino';
import { EpcError } from '../../../../core/errors.js';
import type { UtRequest, UtResponse } from '../../../../core/contract/index.js';
import { DEFAULT_XMPP_WS_OPTIONS, XmppWsSession } from '../../../../plugins/xmpp-ws/index.js';
import { fakeUeFactory } from '../../../support/fake-ua.js';

const OPEN = '<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="ims.test" version="1.0"/>';
const PLAIN = `<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="PLAIN">${Buffer.from('\u0000alice\u0000alicepw').toString('base64')}</auth>`;
const SIMSERVS = 'http://uri.etsi.org/ngn/params/xml/simservs/xcap';

async function loggedIn(ut: ((request: UtRequest) => Promise<UtResponse>) | undefined): Promise<{ session: XmppWsSession; frames: string[] }> {
  const factory = fakeUeFactory({});
  const frames: string[] = [];
  const session = new XmppWsSession({
    id: 'c1', remote: { address: '127.0.0.1', port: 1 },
    send: async (frame) => { frames.push(String(frame)); },
    close: () => undefined,
  }, {
    createUe: (identity) => factory.create({ identity, secure: false, transport: { send: async () => undefined } }),
    log: pino({ level: 'silent' }),
    options: { ...DEFAULT_XMPP_WS_OPTIONS, domain: 'ims.test' },
    now: Date.now,
    reportFlood: () => undefined,
    ...(ut !== undefined ? { utRequest: ut } : {}),
  });
  for (const frame of [OPEN, PLAIN, OPEN, '<iq xmlns="jabber:client" type="set" id="b1"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"><resource>web</resource></bind></iq>']) await session.onFrame(frame);
  frames.length = 0;
  return { session, frames };
}

const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20));

t.test('TS 24.623 over XMPP: a <ut/> set carries the element as the PUT body; the get result carries the element read', async (t) => {
  const seen: UtRequest[] = [];
  const { session, frames } = await loggedIn(async (request) => {
    seen.push(request);
    return request.method === 'GET'
      ? { status: 200, etag: '"v2"', contentType: 'application/xcap-el+xml', body: `<communication-diversion xmlns="${SIMSERVS}" active="true"/>` }
      : { status: 200, etag: '"v2"', body: '' };
  });
  await session.onFrame(`<iq xmlns="jabber:client" type="set" id="u1"><ut xmlns="urn:epcscf:mmtel:0" node="simservs/communication-diversion" etag='"v1"'><communication-diversion xmlns="${SIMSERVS}" active="true"/></ut></iq>`);
  await settle();
  t.match(frames.at(-1), /<iq [^>]*type="result"[^>]*id="u1"|<iq [^>]*id="u1"[^>]*type="result"/);
  t.match(frames.at(-1), /<ut xmlns="urn:epcscf:mmtel:0" status="200" etag="&quot;v2&quot;"\/>/);
  t.equal(seen[0]?.method, 'PUT');
  t.equal(seen[0]?.node, 'simservs/communication-diversion');
  t.equal(seen[0]?.ifMatch, '"v1"');
  t.match(seen[0]?.body, /^<communication-diversion xmlns="http:\/\/uri\.etsi\.org\/ngn\/params\/xml\/simservs\/xcap" active="true"\/>$/);
  await session.onFrame('<iq xmlns="jabber:client" type="get" id="u2"><ut xmlns="urn:epcscf:mmtel:0" node="simservs/communication-diversion"/></iq>');
  await settle();
  t.match(frames.at(-1), /<ut xmlns="urn:epcscf:mmtel:0" status="200"[^>]*><communication-diversion xmlns="http:\/\/uri\.etsi\.org\/ngn\/params\/xml\/simservs\/xcap" active="true"\/><\/ut>/);
  await session.onFrame('<iq xmlns="jabber:client" type="set" id="u3"><ut xmlns="urn:epcscf:mmtel:0" node="simservs/communication-diversion" action="delete"/></iq>');
  await settle();
  t.equal(seen[2]?.method, 'DELETE');
});

t.test('<ut/> refusals: forbidden (another user), bad-request (empty set, bad node), service-unavailable (Ut off or down)', async (t) => {
  const { session, frames } = await loggedIn(async (request) => {
    throw new EpcError(request.node === 'forbidden' ? 'EPC_ERR_UT_FORBIDDEN' : request.node === 'down' ? 'EPC_ERR_UT_UNAVAILABLE' : 'EPC_ERR_UT_BAD_REQUEST', 'why');
  });
  const answer = async (id: string, body: string): Promise<string> => {
    await session.onFrame(`<iq xmlns="jabber:client" type="get" id="${id}">${body}</iq>`);
    await settle();
    return frames.at(-1) ?? '';
  };
  t.match(await answer('e1', '<ut xmlns="urn:epcscf:mmtel:0" node="forbidden"/>'), /type="error".*<forbidden xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"\/>/);
  t.match(await answer('e2', '<ut xmlns="urn:epcscf:mmtel:0" node="bad"/>'), /<bad-request /);
  t.match(await answer('e3', '<ut xmlns="urn:epcscf:mmtel:0" node="down"/>'), /<service-unavailable /);
  await session.onFrame('<iq xmlns="jabber:client" type="set" id="e4"><ut xmlns="urn:epcscf:mmtel:0" node="simservs/communication-diversion"/></iq>');
  await settle();
  t.match(frames.at(-1), /id="e4".*<bad-request /, 'a set without a body');
  const off = await loggedIn(undefined);
  await off.session.onFrame('<iq xmlns="jabber:client" type="get" id="o1"><ut xmlns="urn:epcscf:mmtel:0"/></iq>');
  await settle();
  t.match(off.frames.at(-1), /<service-unavailable .*Ut is not configured/, 'no host.ut: service-unavailable');
});
