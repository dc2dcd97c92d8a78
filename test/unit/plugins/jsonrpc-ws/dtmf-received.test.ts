// plugins/jsonrpc-ws, issue #14 DTMF: an INFO application/dtmf-relay from the far end becomes
// the call.dtmfReceived notification (one per digit); other INFO bodies are not DTMF.
import t from 'tap';
import { ANSWER, OFFER } from '../../../support/fake-ua.js';
import { RpcRig, settle } from '../../../support/jsonrpc-session-rig.js';

t.test('issue #14: INFO application/dtmf-relay from IMS becomes call.dtmfReceived {callId, digit, durationMs}', async (t) => {
  const rig = new RpcRig();
  await rig.register();
  const { callId } = await rig.ok('call.invite', { to: 'sip:bob@ims.test', sdp: OFFER });
  const call = rig.ue.calls.get(String(callId));
  if (call === undefined) throw new Error('no call');
  call.answered(ANSWER);
  call.emit('info', { contentType: 'application/dtmf-relay', body: 'Signal=7\r\nDuration=160\r\n' });
  call.emit('info', { contentType: 'Application/DTMF-Relay; charset=utf-8', body: 'Signal=11\r\n' });
  call.emit('info', { contentType: 'application/xml', body: '<x/>' });
  call.emit('info', { contentType: 'application/dtmf-relay', body: 'Signal=Z\r\n' });
  await settle();
  t.same(rig.notifications('call.dtmfReceived').map((n) => n.params), [
    { callId, digit: '7', durationMs: 160 },
    { callId, digit: '#', durationMs: 100 },
  ], 'two digits; a non-DTMF body and an unknown signal give none');
  t.same(rig.violations, [], 'the notifications match schemas/jsonrpc');
});
