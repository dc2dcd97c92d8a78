import t from 'tap';
import {
  callId, createRequest, createResponse, cseq, generateCallId, generateTag, getHeader, parseVia, tagOf, to, topVia,
  type SipRequest, type SipResponse,
} from '../../../core/sip/index.js';
import { SipStack } from '../../../core/sip/stack.js';
import type { SipSource, SipTarget, TransportProtocol } from '../../../core/sip/transport/types.js';
import { TestUac, TestUas, targetOf } from '../../support/sip-endpoints.js';

/** Socket handles the process holds (what would keep it from exiting). */
function socketHandles(): number {
  return process.getActiveResourcesInfo().filter((r) => /UDP|TCP|Pipe/i.test(r)).length;
}

/**
 * libuv drops closed handles from its list a loop turn or two after their close callbacks:
 * poll every 5 ms (100 ms at most) until `done(count)` holds.
 */
async function settleHandles(done: (count: number, previous: number) => boolean): Promise<void> {
  let previous = -1;
  for (let i = 0; i < 20; i++) {
    const count = socketHandles();
    if (done(count, previous)) return;
    previous = count;
    await new Promise((r) => setTimeout(r, 5));
  }
}

const FAST_TIMERS = { t1: 50, t2: 400, t4: 500, d: 500 };

function options(stack: SipStack, transport: TransportProtocol, target: SipTarget): SipRequest {
  const { host, port } = stack.localVia(transport);
  return createRequest({
    method: 'OPTIONS', uri: `sip:${target.host}:${target.port}`,
    headers: [
      ['Via', stack.newVia(transport)], ['Max-Forwards', '70'],
      ['From', `<sip:a@${host}:${port}>;tag=${generateTag()}`], ['To', `<sip:${target.host}:${target.port}>`],
      ['Call-ID', generateCallId()], ['CSeq', '1 OPTIONS'],
    ],
  });
}

t.test('RFC 3261 §18.1.1 + RFC 3581 §3: newVia names our transport, bound sent-by, a z9hG4bK branch and rport', async (t) => {
  const stack = await SipStack.start({ listeners: ['udp:127.0.0.1:0', 'tcp:127.0.0.1:0'], onRequest: () => undefined });
  t.teardown(() => stack.close());
  for (const transport of ['udp', 'tcp'] as const) {
    const via = parseVia(stack.newVia(transport));
    t.equal(via.transport, transport.toUpperCase());
    t.equal(via.host, '127.0.0.1');
    t.equal(via.port, stack.transport.transport(transport)?.address().port);
    t.match(via.branch, /^z9hG4bK.{7,}/);
    t.ok(via.params.some((p) => p.name === 'rport' && p.value === null), 'empty rport asks for the source port');
  }
  const a = parseVia(stack.newVia('udp')).branch;
  const b = parseVia(stack.newVia('udp')).branch;
  t.not(a, b, '§8.1.1.7: every new transaction gets its own branch');
  t.throws(() => stack.newVia('tls'), { code: 'EPC_ERR_INVALID_STATE' }, 'no tls listener, no tls Via');
});

for (const transport of ['udp', 'tcp'] as const) {
  t.test(`RFC 3261 §17: two SipStacks exchange OPTIONS over ${transport} through their transaction layers`, async (t) => {
    const seen: { request: SipRequest; source: SipSource }[] = [];
    const server = await SipStack.start({
      listeners: [`${transport}:127.0.0.1:0`],
      onRequest: (request, tx, source) => {
        seen.push({ request, source });
        tx.respond(createResponse(request, 200, 'OK', { toTag: generateTag() }));
      },
    });
    const client = await SipStack.start({ listeners: [`${transport}:127.0.0.1:0`], onRequest: () => undefined });
    t.teardown(async () => { await client.close(); await server.close(); });
    const { host, port } = server.localVia(transport);
    const target: SipTarget = { transport, host, port };
    const request = options(client, transport, target);
    const response = await new Promise<SipResponse>((resolve, reject) => {
      client.transactions.sendRequest(request, target, { onFinal: resolve, onTimeout: () => reject(new Error('timeout')) });
    });
    t.equal(response.status, 200);
    t.equal(callId(response), callId(request));
    t.equal(seen.length, 1, 'the server TU saw the request once');
    t.equal(seen[0]?.source.transport, transport);
    if (transport === 'udp') t.equal(seen[0]?.source.remotePort, client.localVia(transport).port, 'UDP: sent from our listening port');
    else t.ok(seen[0]?.source.connectionId, 'TCP: arrived on a connection the response can reuse (§18.2.2)');
    // RFC 3581 §4: the server transport filled rport and received.
    const via = topVia(seen[0]!.request);
    t.equal(via.params.find((p) => p.name === 'rport')?.value, String(seen[0]?.source.remotePort));
  });

  t.test(`RFC 3261 §13.2.2.4 / RFC 6026 §8.7: INVITE/200/ACK/BYE between two SipStacks over ${transport}`, async (t) => {
    const uas = await TestUas.start({ listeners: [`${transport}:127.0.0.1:0`], timers: FAST_TIMERS, tryingDelay: 0 });
    const uac = await TestUac.start({ listeners: [`${transport}:127.0.0.1:0`], timers: FAST_TIMERS });
    t.teardown(async () => { await uac.close(); await uas.close(); });
    const outcome = await uac.call(uas.uri(transport), { transport, holdMs: 20 });
    t.equal(outcome.status, 200, 'answered');
    t.same(outcome.provisional, [100, 180], '100 Trying (tryingDelay 0) then 180 Ringing');
    t.equal(outcome.byeStatus, 200, 'the BYE found the dialog (tags, Call-ID matched)');
    t.ok(outcome.ok);
    t.equal(uas.acksReceived, 1, 'the 2xx ACK reached the UAS core through onStrayAck');
    t.equal(uas.completedCalls, 1);
    t.equal(outcome.ackRetransmissions, 0, 'the ACK arrived before T1: no 2xx retransmission needed re-ACKing');
    t.equal(uas.openDialogs, 0, 'the BYE ended the UAS dialog');
  });
}

t.test('RFC 3261 §9.1/§9.2: CANCEL after 180 → 200 for the CANCEL, 487 for the INVITE, no dialog', async (t) => {
  const uas = await TestUas.start({ listeners: ['udp:127.0.0.1:0'], timers: FAST_TIMERS, ringMs: 2000 });
  const uac = await TestUac.start({ listeners: ['udp:127.0.0.1:0'], timers: FAST_TIMERS });
  t.teardown(async () => { await uac.close(); await uas.close(); });
  const outcome = await uac.call(uas.uri('udp'), { transport: 'udp', cancelAfterMs: 10 });
  t.equal(outcome.status, 487);
  t.equal(outcome.cancelStatus, 200);
  t.notOk(outcome.ok);
  t.equal(outcome.byeStatus, undefined, 'no dialog, no BYE');
  t.equal(uas.cancelledCalls, 1);
  t.equal(uas.completedCalls, 0);
});

t.test('RFC 3261 §13.3.1.4: the UAS core retransmits the 2xx until the ACK, and the UAC re-ACKs each one', async (t) => {
  // A UAC that drops the first two 200s it receives: the UAS keeps sending it, the UAC ACKs once it hears it.
  const uas = await TestUas.start({ listeners: ['udp:127.0.0.1:0'], timers: FAST_TIMERS, tryingDelay: 0 });
  const acks: SipRequest[] = [];
  let oksSeen = 0;
  const uac = await SipStack.start({ listeners: ['udp:127.0.0.1:0'], timers: FAST_TIMERS, onRequest: () => undefined });
  t.teardown(async () => { await uac.close(); await uas.close(); });
  const target = targetOf(createRequest({ method: 'OPTIONS', uri: uas.uri('udp') }).uri, 'udp');
  const { host, port } = uac.localVia('udp');
  const invite = createRequest({
    method: 'INVITE', uri: uas.uri('udp'),
    headers: [['Via', uac.newVia('udp')], ['Max-Forwards', '70'], ['From', `<sip:x@${host}:${port}>;tag=${generateTag()}`],
      ['To', `<${uas.uri('udp')}>`], ['Call-ID', generateCallId()], ['CSeq', '7 INVITE'], ['Contact', `<sip:x@${host}:${port}>`]],
  });
  await new Promise<void>((resolve) => {
    uac.transactions.sendRequest(invite, target, {
      onFinal: (ok) => {
        oksSeen++;
        // RFC 6026 §8.4: every 2xx retransmission in Accepted reaches the TU.
        if (oksSeen < 3) return;
        const ack = createRequest({
          method: 'ACK', uri: uas.uri('udp'),
          headers: [['Via', uac.newVia('udp')], ['Max-Forwards', '70'], ['From', getHeader(invite, 'From')!],
            ['To', getHeader(ok, 'To')!], ['Call-ID', callId(invite)], ['CSeq', `${cseq(invite).seq} ACK`]],
        });
        acks.push(ack);
        void uac.sendAck(ack, target).then(resolve);
      },
    });
  });
  t.equal(oksSeen, 3, 'the 200 came three times (T1, then 2*T1)');
  await new Promise((r) => setTimeout(r, 6 * FAST_TIMERS.t1));
  t.equal(oksSeen, 3, 'and stopped once the ACK arrived');
  t.equal(uas.acksReceived, 1);
  t.ok(tagOf(to(acks[0]!)), 'the ACK carries the To tag of the 2xx');
});

t.test('sendAck refuses anything but ACK (RFC 3261 §17.1.1.3: other requests need a client transaction)', async (t) => {
  const stack = await SipStack.start({ listeners: ['udp:127.0.0.1:0'], onRequest: () => undefined });
  t.teardown(() => stack.close());
  const request = options(stack, 'udp', { transport: 'udp', host: '127.0.0.1', port: 9 });
  await t.rejects(stack.sendAck(request, { transport: 'udp', host: '127.0.0.1', port: 9 }), { code: 'EPC_ERR_INVALID_STATE' });
});

t.test('close() is idempotent, stops the transaction layer and releases every socket', async (t) => {
  await settleHandles((count, previous) => count === previous); // earlier tests' closed sockets leave the list first
  const before = socketHandles();
  const server = await SipStack.start({
    listeners: ['udp:127.0.0.1:0', 'tcp:127.0.0.1:0'],
    onRequest: (request, tx) => { tx.respond(createResponse(request, 200)); },
  });
  const client = await SipStack.start({ listeners: ['udp:127.0.0.1:0', 'tcp:127.0.0.1:0'], onRequest: () => undefined });
  // Open a TCP connection both ways, and leave a UDP client transaction pending (Timer A/B running).
  const tcpTarget: SipTarget = { transport: 'tcp', ...server.localVia('tcp') };
  await new Promise((resolve) => client.transactions.sendRequest(options(client, 'tcp', tcpTarget), tcpTarget, { onFinal: resolve }));
  const silent: SipTarget = { transport: 'udp', host: '127.0.0.1', port: 9 };
  client.transactions.sendRequest(options(client, 'udp', silent), silent, { onFinal: () => t.fail('no final after close') });
  t.ok(socketHandles() > before, 'sockets are open while running');
  t.equal(client.transactions.clientTransactionCount, 1, 'one pending client transaction');

  const first = client.close();
  t.equal(client.close(), first, 'a second close() returns the same promise');
  await first;
  await server.close();
  await server.close();
  t.equal(client.transactions.clientTransactionCount, 0, 'transactions are gone');
  t.throws(() => client.transactions.sendRequest(options(server, 'udp', silent), silent, { onFinal: () => undefined }),
    { code: 'EPC_ERR_INVALID_STATE' });
  await t.rejects(client.sendAck(createRequest({ method: 'ACK', uri: 'sip:127.0.0.1:9' }), silent), { code: 'EPC_ERR_SIP_TRANSPORT' });
  await settleHandles((count) => count <= before);
  t.equal(socketHandles(), before, 'no socket handle is left to keep the process alive');
});
