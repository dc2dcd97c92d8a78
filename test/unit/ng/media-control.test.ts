import t from 'tap';
import { SdpError } from '../../../media-gw/sdp/index.js';
import { EpcError } from '../../../core/errors.js';
import { createMediaControl, InProcessMediaControl, NgMediaControl, type MediaControl } from '../../../core/pcscf/alg/media-control.js';
import type { NgQueryResult } from '../../../media-gw/ng/control.js';
import { NgServer } from '../../../media-gw/ng/ng-server.js';
import { FakeGateway } from './fake-gateway.js';
import { answerTowardWic, offerTowardIms, plainRtpAnswer } from './ims-alg-requests.js';

const byTag = (q: NgQueryResult): NgQueryResult => ({ ...q, streams: [...q.streams].sort((a, b) => a.tag.localeCompare(b.tag)) });

/** The IMS-ALG's sequence for one call, run through any MediaControl; returns what came back. */
async function callThrough(control: MediaControl): Promise<unknown[]> {
  await control.ping();
  const offer = await control.offer(offerTowardIms('call-1', 'wic-tag'));
  const answer = await control.answer(answerTowardWic('call-1', 'wic-tag', 'ims-tag', plainRtpAnswer('127.0.0.1', 4000)));
  const query = byTag(await control.query({ callId: 'call-1' }));
  await control.delete({ callId: 'call-1', fromTag: 'wic-tag' });
  const failure = await control.query({ callId: 'unknown' }).then(() => undefined, (e: unknown) => e);
  return [offer, answer, query, failure instanceof EpcError ? failure.code : failure];
}

t.test('architecture: the same IMS-ALG calls drive an in-process gateway or one behind the ng protocol, with the same results', async (t) => {
  const inProcessGateway = new FakeGateway();
  const inProcess = createMediaControl({ kind: 'in-process', gateway: inProcessGateway });
  t.ok(inProcess instanceof InProcessMediaControl);

  const remoteGateway = new FakeGateway();
  const server = await NgServer.listen({ control: remoteGateway });
  const overNg = createMediaControl({ kind: 'ng', address: '127.0.0.1', port: server.address().port, timeoutMs: 200, retries: 0 });
  t.ok(overNg instanceof NgMediaControl);
  t.teardown(async () => { await overNg.close(); await server.close(); });

  const direct = await callThrough(inProcess);
  const remote = await callThrough(overNg);
  t.same(remote, direct, 'same replies');
  t.equal(direct[3], 'EPC_ERR_MEDIA', 'failures are EPC_ERR_MEDIA both ways');
  t.same(remoteGateway.calls, inProcessGateway.calls, 'the gateway is asked the same things');
});

t.test('InProcessMediaControl: any gateway fault reaches the ALG as EPC_ERR_MEDIA; close stops it', async (t) => {
  const gateway = new FakeGateway();
  const control = new InProcessMediaControl(gateway);
  gateway.failure = new TypeError('boom');
  const wrapped = await control.offer(offerTowardIms('c', 'f')).then(() => undefined, (e: unknown) => e);
  t.ok(wrapped instanceof EpcError && wrapped.code === 'EPC_ERR_MEDIA', 'a TypeError becomes EPC_ERR_MEDIA');
  t.equal((wrapped as EpcError).message, 'media gateway offer failed: boom');
  t.equal((wrapped as EpcError).cause, gateway.failure, 'the original is kept as cause');
  const mediaError = new EpcError('EPC_ERR_MEDIA', 'no free ports');
  gateway.failure = mediaError;
  await t.rejects(control.answer(answerTowardWic('c', 'f', 'g', 'v=0')), mediaError, 'an EPC_ERR_MEDIA passes unchanged');
  const sdpError = new SdpError('no common codec', 488, 305);
  gateway.failure = sdpError;
  await t.rejects(control.offer(offerTowardIms('c', 'f')), sdpError, 'an SdpError passes unchanged (the ALG answers 488)');
  gateway.failure = new EpcError('EPC_ERR_INVALID_STATE', 'no such leg');
  await t.rejects(control.delete({ callId: 'c' }), { code: 'EPC_ERR_MEDIA', message: /no such leg/ }, 'other codes are re-coded');
  await control.close();
  await t.rejects(control.ping(), { code: 'EPC_ERR_MEDIA', message: /closed/ });
  await t.rejects(control.query({ callId: 'c' }), { code: 'EPC_ERR_MEDIA', message: /closed/ });
});
