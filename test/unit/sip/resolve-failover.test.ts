import { createServer } from 'node:net';
import t, { type Test } from 'tap';
import { EpcError } from '../../../core/errors.js';
import {
  callId, createRequest, createResponse, generateBranch, topVia, type SipRequest, type SipResponse,
} from '../../../core/sip/index.js';
import { TargetSet, sendWithFailover, shouldTryNextTarget } from '../../../core/sip/resolve/index.js';
import { SipTransportLayer, viaResponseTarget, type SipTarget } from '../../../core/sip/transport/index.js';

/** A peer answering every request with `status`, over UDP and TCP. */
async function peer(t: Test, status: number): Promise<SipTransportLayer> {
  const layer = await SipTransportLayer.start({ listeners: ['udp:127.0.0.1:0', 'tcp:127.0.0.1:0'] });
  t.teardown(() => layer.close());
  layer.onMessage(({ message, source }) => {
    if (message.kind !== 'request') return;
    void layer.send(createResponse(message, status), viaResponseTarget(topVia(message), source));
  });
  return layer;
}

async function deadTcpPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/**
 * One attempt = one new request (new branch, RFC 3263 §4.3) sent through `client`, waiting
 * for its response; no answer within `timeoutMs` is EPC_ERR_SIP_TIMEOUT (standing in for
 * Timer B/F of the transaction layer).
 */
function attemptVia(client: SipTransportLayer, timeoutMs = 300) {
  let n = 0;
  return async (target: SipTarget): Promise<SipResponse> => {
    const id = `failover-${++n}`;
    const via = client.localVia(target.transport);
    const request: SipRequest = createRequest({
      method: 'OPTIONS', uri: 'sip:icscf.ims.test',
      headers: [
        ['Via', `SIP/2.0/${target.transport.toUpperCase()} ${via.host}:${via.port};branch=${generateBranch()}`],
        ['Max-Forwards', '70'], ['From', '<sip:pcscf@ims.test>;tag=f'], ['To', '<sip:icscf.ims.test>'],
        ['Call-ID', id], ['CSeq', '1 OPTIONS'],
      ],
    });
    const answered = new Promise<SipResponse>((resolve, reject) => {
      const timer = setTimeout(() => { off(); reject(new EpcError('EPC_ERR_SIP_TIMEOUT', `no answer from ${target.host}:${target.port}`)); }, timeoutMs);
      const off = client.onMessage(({ message }) => {
        if (message.kind === 'response' && callId(message) === id) { clearTimeout(timer); off(); resolve(message); }
      });
    });
    answered.catch(() => {});
    await client.send(request, target);
    return answered;
  };
}

t.test('RFC 3263 §4.3: on connection refused, timeout and 503 the next target is tried', async (t) => {
  const client = await SipTransportLayer.start({ listeners: ['udp:127.0.0.1:0', 'tcp:127.0.0.1:0'] });
  t.teardown(() => client.close());
  const busy = await peer(t, 503);
  const healthy = await peer(t, 200);
  const silent = await SipTransportLayer.start({ listeners: ['udp:127.0.0.1:0'] }); // receives, never answers
  t.teardown(() => silent.close());
  const targets: SipTarget[] = [
    { transport: 'tcp', host: '127.0.0.1', port: await deadTcpPort() },
    { transport: 'udp', host: '127.0.0.1', port: silent.transport('udp')!.address().port },
    { transport: 'udp', host: '127.0.0.1', port: busy.transport('udp')!.address().port },
    { transport: 'tcp', host: '127.0.0.1', port: healthy.transport('tcp')!.address().port },
  ];
  const result = await sendWithFailover(targets, attemptVia(client));
  t.equal(result.response.status, 200);
  t.same(result.target, targets[3]);
  t.same(result.failed.map((f) => f.target), targets.slice(0, 3));
  t.match(result.failed[0]!.outcome, { code: 'EPC_ERR_SIP_TRANSPORT', message: /ECONNREFUSED/ });
  t.match(result.failed[1]!.outcome, { code: 'EPC_ERR_SIP_TIMEOUT' });
  t.match(result.failed[2]!.outcome, { status: 503 });
});

t.test('RFC 3263 §4.3: a non-503 answer ends the search; all 503 returns the last 503', async (t) => {
  const client = await SipTransportLayer.start({ listeners: ['udp:127.0.0.1:0'] });
  t.teardown(() => client.close());
  const notFound = await peer(t, 404);
  const busyA = await peer(t, 503);
  const busyB = await peer(t, 503);
  const port = (l: SipTransportLayer): number => l.transport('udp')!.address().port;
  const stop = await sendWithFailover(
    [{ transport: 'udp', host: '127.0.0.1', port: port(notFound) }, { transport: 'udp', host: '127.0.0.1', port: port(busyA) }],
    attemptVia(client),
  );
  t.equal(stop.response.status, 404, 'a 404 is an answer, not a failure');
  t.same(stop.failed, []);
  const allBusy = await sendWithFailover(
    [{ transport: 'udp', host: '127.0.0.1', port: port(busyA) }, { transport: 'udp', host: '127.0.0.1', port: port(busyB) }],
    attemptVia(client),
  );
  t.equal(allBusy.response.status, 503);
  t.equal(allBusy.target.port, port(busyB));
  t.equal(allBusy.failed.length, 1);
});

t.test('RFC 3263 §4.3: when every target fails at the transport, the last error is thrown', async (t) => {
  const client = await SipTransportLayer.start({ listeners: ['tcp:127.0.0.1:0'] });
  t.teardown(() => client.close());
  const targets: SipTarget[] = [
    { transport: 'tcp', host: '127.0.0.1', port: await deadTcpPort() },
    { transport: 'tcp', host: '127.0.0.1', port: await deadTcpPort() },
  ];
  let attempts = 0;
  const attempt = attemptVia(client);
  await t.rejects(sendWithFailover(targets, (target) => { attempts++; return attempt(target); }), {
    code: 'EPC_ERR_SIP_TRANSPORT', message: new RegExp(`127\\.0\\.0\\.1:${targets[1]!.port}`),
  });
  t.equal(attempts, 2);
});

t.test('shouldTryNextTarget: transport errors, timeouts and 503 fail over; answers and bugs do not', async (t) => {
  const ok = { kind: 'response', status: 200, reason: 'OK', headers: [], body: new Uint8Array() } as const;
  t.equal(shouldTryNextTarget(new EpcError('EPC_ERR_SIP_TRANSPORT')), true);
  t.equal(shouldTryNextTarget(new EpcError('EPC_ERR_SIP_TIMEOUT')), true);
  t.equal(shouldTryNextTarget(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })), true);
  t.equal(shouldTryNextTarget({ ...ok, status: 503 }), true);
  t.equal(shouldTryNextTarget({ ...ok, status: 500 }), false);
  t.equal(shouldTryNextTarget(ok), false);
  t.equal(shouldTryNextTarget(new EpcError('EPC_ERR_SIP_PARSE')), false);
  t.equal(shouldTryNextTarget(new TypeError('bug')), false);
  await t.rejects(sendWithFailover([{ transport: 'udp', host: '127.0.0.1', port: 1 }, { transport: 'udp', host: '127.0.0.1', port: 2 }],
    async () => { throw new TypeError('bug in attempt'); }), { name: 'TypeError' });
});

t.test('TargetSet walks the targets in order and reports what was tried', async (t) => {
  const a: SipTarget = { transport: 'udp', host: '10.0.0.1', port: 5060 };
  const b: SipTarget = { transport: 'tcp', host: '10.0.0.2', port: 5060 };
  const set = new TargetSet([a, b]);
  t.same(set.current(), a);
  t.equal(set.remaining, 1);
  t.same(set.next(), b);
  t.same(set.tried, [a, b]);
  t.equal(set.next(), undefined);
  t.equal(set.next(), undefined);
  t.equal(set.remaining, 0);
  t.throws(() => new TargetSet([]), { code: 'EPC_ERR_SIP_RESOLVE' });
});
