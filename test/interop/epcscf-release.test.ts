// R-ORIG-9 / R-REG-25 with real peers: when a WIC's WebSocket dies in the middle of a call, epcscf
// releases the call toward the IMS with a BYE (the WIC cannot), and its flow is dead afterwards.
import t from 'tap';
import { getHeader, type SipRequest } from '../../core/sip/index.js';
import { isRequest, startEpcscf, startImsCore } from '../support/epcscf-harness.js';
import { allocatePort, releasePort } from '../support/peers/ports.js';
import { startSippUas } from '../support/peers/sipp.js';
import { JsSipUser } from '../support/wic/jssip-user.js';

t.test('R-ORIG-9: JsSIP calls a sipp UAS through Kamailio, its WebSocket dies, epcscf sends the BYE the UAS expects', async (t) => {
  const core = await startImsCore();
  t.teardown(() => core.stop());
  const epcscf = await startEpcscf({ nextHop: core.uri('udp') });
  t.teardown(() => epcscf.close());
  const alice = await JsSipUser.connect({ wsUrl: epcscf.wsUrl, user: 'alice', password: 'alicepw' });
  t.teardown(() => alice.stop());
  t.equal(await alice.register(), 200, 'alice registered through epcscf');

  const uasPort = await allocatePort();
  const uas = await startSippUas({ port: uasPort, calls: 1 });
  t.teardown(async () => { await uas.stop(); releasePort(uasPort); });

  const call = alice.call(`sip:uas@127.0.0.1:${uasPort}`);
  await call.accepted();
  await alice.capture.waitFor((f) => f.direction === 'sent' && f.message?.kind === 'request' && f.message.method === 'ACK', { what: 'ACK from alice' });

  alice.kill(); // the browser tab is gone: no BYE from the WIC
  const exited = await Promise.race([uas.exited, new Promise<undefined>((r) => setTimeout(() => r(undefined), 8000).unref())]);
  t.equal(exited?.code, 0, 'the sipp UAS received a BYE for the call and completed it', { sippOutput: uas.output().slice(-1500) });

  const bye = epcscf.capture.entries.find(isRequest('mw', 'out', 'BYE'))?.message as SipRequest | undefined;
  t.ok(bye, 'epcscf sent the BYE on Mw');
  if (bye) {
    t.match(getHeader(bye, 'Reason') ?? '', /cause=480/, 'with a Reason saying why (RFC 3326)');
    const invite = epcscf.capture.entries.find(isRequest('mw', 'out', 'INVITE'))?.message as SipRequest | undefined;
    t.equal(getHeader(bye, 'Call-ID'), invite && getHeader(invite, 'Call-ID'), 'for the call alice had made');
  }
  t.equal((await epcscf.pcscf.dialogs.all()).length, 0, 'no dialog left behind');
  t.equal((await epcscf.pcscf.registrations.all()).length, 0, 'the dead flow has no binding left');
});
