// core/ua CONF (TS 24.605, TS 24.147 §5.3.1, RFC 4579): the conference URI from the focus's
// isfocus Contact, REFER inside the conference dialog with Refer-To <party;method=INVITE|BYE>.
import t from 'tap';
import { getHeader } from '../../../core/sip/index.js';
import type { VirtualUe } from '../../../core/ua/index.js';
import { ANSWER, OFFER, registeredUe, reply, type RecordingTransport } from '../../support/ua-fake-core.js';

async function conference(ue: VirtualUe, transport: RecordingTransport, contact: string): Promise<{ call: Awaited<ReturnType<VirtualUe['call']>>; focus: string | undefined }> {
  const call = await ue.call('sip:mmtel@conf-factory.ims.test', { sdp: OFFER });
  const answered = new Promise<string | undefined>((resolve) => call.once('answered', (info) => resolve(info.focus)));
  ue.receive(reply(transport.last('INVITE'), 200, { toTag: 'f1', headers: [['Contact', contact]], body: ANSWER }));
  return { call, focus: await answered };
}

t.test('RFC 4579 §5.3: a 2xx whose Contact has isfocus names the conference URI (answered.focus); without it there is none', async (t) => {
  const { ue, transport } = await registeredUe(t);
  t.equal((await conference(ue, transport, '<sip:conf-7@as.ims.test;transport=udp>;isfocus')).focus, 'sip:conf-7@as.ims.test;transport=udp');
  t.equal((await conference(ue, transport, '<sip:bob@192.0.2.7>')).focus, undefined, 'an ordinary answer');
});

t.test('RFC 4579 §5.5/§5.10: referParty REFERs the focus in the dialog with Refer-To <party;method=INVITE|BYE>; a refusal rejects', async (t) => {
  const { ue, transport } = await registeredUe(t);
  const { call } = await conference(ue, transport, '<sip:conf-7@as.ims.test>;isfocus');
  const adding = call.referParty('sip:dave@ims.test', 'INVITE');
  const refer = transport.last('REFER');
  t.equal(refer.uri.kind === 'sip' ? `${refer.uri.user}@${refer.uri.host}` : '', 'conf-7@as.ims.test', 'Request-URI: the conference URI (the remote target)');
  t.equal(getHeader(refer, 'Refer-To'), '<sip:dave@ims.test;method=INVITE>');
  ue.receive(reply(refer, 202));
  await adding;
  const removing = call.referParty('sip:dave@ims.test;method=INVITE', 'BYE');
  t.equal(getHeader(transport.last('REFER'), 'Refer-To'), '<sip:dave@ims.test;method=BYE>', 'a method parameter of the client is replaced');
  ue.receive(reply(transport.last('REFER'), 403));
  await t.rejects(removing, { code: 'EPC_ERR_UA_REJECTED', status: 403 });
  await t.rejects(call.referParty('sip:x@ims.test?Route=%3Csip:evil%3E', 'INVITE'), { code: 'EPC_ERR_UA_INVALID_ARGUMENT' }, 'URI headers never reach the Refer-To');
});
