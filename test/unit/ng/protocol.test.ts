import t from 'tap';
import fc from 'fast-check';
import { encodeBencode, type BencodeDict } from '../../../media-gw/ng/bencode.js';
import {
  decodeNgReply, decodeNgRequest, encodeNgError, encodeNgReply, encodeNgRequest, formatNgFrame, NgProtocolError, parseNgFrame,
  splitCookie, type NgRequest,
} from '../../../media-gw/ng/protocol.js';
import { answerTowardWic, CHROME_AUDIO_OFFER, offerTowardIms, plainRtpAnswer } from './ims-alg-requests.js';

/** What goes on the wire and comes back out at the other end. */
function overTheWire(request: NgRequest): NgRequest {
  const frame = parseNgFrame(formatNgFrame('c1', encodeNgRequest(request)));
  return decodeNgRequest(frame.dict);
}

t.test('rtpengine ng: `<cookie> <bencoded dictionary>` framing', async (t) => {
  t.equal(formatNgFrame('5323_1', { command: 'ping' }).toString('latin1'), '5323_1 d7:command4:pinge', 'the docs\' ping');
  const frame = parseNgFrame(Buffer.from('5323_1 d6:result4:ponge', 'latin1'));
  t.equal(frame.cookie, '5323_1');
  t.same({ ...frame.dict }, { result: 'pong' });
  t.throws(() => splitCookie(Buffer.from('d7:command4:pinge')), NgProtocolError, 'no space: no cookie');
  t.throws(() => splitCookie(Buffer.from(' d7:command4:pinge')), { message: /no cookie/ }, 'empty cookie');
  t.throws(() => splitCookie(Buffer.from(`${'x'.repeat(200)} de`)), { message: /no cookie/ }, 'over-long cookie');
  t.throws(() => splitCookie(Buffer.from('a\x01b de')), { message: /printable/ }, 'control characters in the cookie');
  t.throws(() => parseNgFrame(Buffer.from('c1 l4:spame')), { message: /not a dictionary/ }, 'a list is not a message');
  t.throws(() => parseNgFrame(Buffer.from('c1 d7:command')), { code: 'EPC_ERR_MEDIA' }, 'truncated bencode');
});

t.test('rtpengine ng: requests use Kamailio\'s key spellings on the wire', async (t) => {
  const wire = encodeNgRequest({ command: 'offer', ...offerTowardIms('call-1', 'tag-1'), mediaAddress: '192.0.2.1' });
  t.same(wire, {
    command: 'offer', 'call-id': 'call-1', 'from-tag': 'tag-1', sdp: CHROME_AUDIO_OFFER,
    'transport-protocol': 'RTP/AVP', ICE: 'remove', DTLS: 'off', 'DTLS-reverse': 'passive', 'rtcp-mux': ['demux'],
    replace: ['origin', 'session-connection'], direction: ['lo', 'lo'], 'media-address': '192.0.2.1', flags: ['trust-address'],
  });
  t.equal(encodeBencode({ command: 'delete', 'call-id': 'x', 'from-tag': undefined }).toString('latin1'),
    'd7:call-id1:x7:command6:deletee', 'absent optional keys are not sent');
  t.same(encodeNgRequest({ command: 'query', callId: 'q' }), { command: 'query', 'call-id': 'q' });
});

t.test('the IMS-ALG requests survive the wire unchanged (client encoding = server decoding)', async (t) => {
  const offer: NgRequest = { command: 'offer', ...offerTowardIms('call-1', 'tag-1') };
  const answer: NgRequest = { command: 'answer', ...answerTowardWic('call-1', 'tag-1', 'tag-2', plainRtpAnswer('10.0.0.1', 4000)) };
  t.same(overTheWire(offer), offer);
  t.same(overTheWire(answer), answer);
  t.same(overTheWire({ command: 'ping' }), { command: 'ping' });
  t.same(overTheWire({ command: 'delete', callId: 'c', fromTag: 'f', toTag: 'g' }), { command: 'delete', callId: 'c', fromTag: 'f', toTag: 'g' });
  t.same(overTheWire({ command: 'delete', callId: 'c' }), { command: 'delete', callId: 'c' });
  t.same(overTheWire({ command: 'query', callId: 'c' }), { command: 'query', callId: 'c' });
});

t.test('property: any offer the types allow survives the wire', async (t) => {
  const text = fc.string({ minLength: 1, maxLength: 20 });
  const offerArb = fc.record({
    callId: text, fromTag: text, sdp: text,
    transportProtocol: fc.constantFrom('RTP/AVP', 'RTP/AVPF', 'UDP/TLS/RTP/SAVP', 'UDP/TLS/RTP/SAVPF'),
    ice: fc.constantFrom('remove', 'force', 'default'),
    dtls: fc.constantFrom('off', 'passive', 'active'),
    rtcpMux: fc.subarray(['offer', 'demux', 'accept', 'require'] as const),
    replace: fc.array(text, { maxLength: 3 }),
    direction: fc.tuple(text, text),
    mediaAddress: fc.ipV4(),
    flags: fc.array(text, { maxLength: 3 }),
  }, { requiredKeys: ['callId', 'fromTag', 'sdp'] });
  fc.assert(fc.property(offerArb, (offer) => {
    const request = { command: 'offer', ...offer } as NgRequest;
    t.same(overTheWire(request), request);
    return true;
  }), { numRuns: 200 });
});

t.test('rtpengine ng: the server also accepts rtpengine\'s space spellings and DTLS aliases', async (t) => {
  const request = decodeNgRequest({
    command: 'offer', 'call-id': 'c', 'from-tag': 'f', sdp: 'v=0',
    'transport protocol': 'RTP/AVP', 'media address': '192.0.2.7', 'rtcp-mux': ['offer'], DTLS: 'no',
  });
  t.match(request, { command: 'offer', transportProtocol: 'RTP/AVP', mediaAddress: '192.0.2.7', dtls: 'off', rtcpMux: ['offer'] });
  t.match(decodeNgRequest({ command: 'offer', 'call-id': 'c', 'from-tag': 'f', sdp: 'v=0', DTLS: 'disable' }), { dtls: 'off' });
  t.same(decodeNgRequest({ command: 'query', 'call-id': 'c', 'from-tag': 'ignored', unknown: 'ignored too' }),
    { command: 'query', callId: 'c' }, 'unknown keys are ignored, as rtpengine does');
});

t.test('rtpengine ng: malformed requests are refused with an error-reason', async (t) => {
  const base = { command: 'offer', 'call-id': 'c', 'from-tag': 'f', sdp: 'v=0' };
  const cases: [Record<string, unknown>, RegExp][] = [
    [{}, /No command in message/],
    [{ command: 'bogus' }, /Unrecognized command/],
    [{ command: 3 }, /"command" must be a string/],
    [{ command: 'offer', 'from-tag': 'f', sdp: 'v=0' }, /No call-id in message/],
    [{ command: 'offer', 'call-id': 'c', sdp: 'v=0' }, /No from-tag in message/],
    [{ command: 'offer', 'call-id': 'c', 'from-tag': 'f' }, /No SDP body in message/],
    [{ ...base, command: 'answer' }, /No to-tag in message/],
    [{ command: 'delete' }, /No call-id in message/],
    [{ command: 'query', 'call-id': '' }, /No call-id in message/],
    [{ ...base, ICE: 'sometimes' }, /unsupported ICE value "sometimes"/],
    [{ ...base, DTLS: 'maybe' }, /unsupported DTLS value/],
    [{ ...base, 'transport-protocol': 'TCP/MSRP' }, /unsupported transport-protocol value/],
    [{ ...base, 'rtcp-mux': ['demux', 'reject'] }, /unsupported rtcp-mux value "reject"/],
    [{ ...base, 'rtcp-mux': 'demux' }, /"rtcp-mux" must be a list of strings/],
    [{ ...base, direction: ['only-one'] }, /exactly two interfaces/],
    [{ ...base, replace: [1] }, /"replace" must be a list of strings/],
    [{ ...base, sdp: 7 }, /"sdp" must be a string/],
  ];
  for (const [dict, reason] of cases) {
    t.throws(() => decodeNgRequest(dict as Parameters<typeof decodeNgRequest>[0]), { name: 'NgProtocolError', code: 'EPC_ERR_MEDIA', message: reason },
      JSON.stringify(dict).slice(0, 80));
  }
});

t.test('rtpengine ng: replies — pong, ok with sdp, error with error-reason', async (t) => {
  t.same(encodeNgReply('ping', undefined), { result: 'pong' });
  t.same(encodeNgReply('offer', { sdp: 'v=0' }), { result: 'ok', sdp: 'v=0' });
  t.same(encodeNgReply('delete', undefined), { result: 'ok' });
  t.same(encodeNgError('Unknown call-id'), { result: 'error', 'error-reason': 'Unknown call-id' });
  t.equal(decodeNgReply('ping', { result: 'pong' }), undefined);
  t.same(decodeNgReply('answer', { result: 'ok', sdp: 'v=0' }), { sdp: 'v=0' });
  t.equal(decodeNgReply('delete', { result: 'ok', warning: 'Call-ID not found' }), undefined, 'a warning is not a failure');
  t.throws(() => decodeNgReply('offer', { result: 'error', 'error-reason': 'Unknown call-id' }),
    { code: 'EPC_ERR_MEDIA', message: 'ng offer failed: Unknown call-id' });
  t.throws(() => decodeNgReply('offer', { result: 'error' }), { message: /no error-reason given/ });
  t.throws(() => decodeNgReply('offer', { result: 'ok' }), { name: 'NgProtocolError', message: /reply has no SDP/ });
  t.throws(() => decodeNgReply('offer', { result: 'load limit' }), { message: /unexpected result/ });
  t.throws(() => decodeNgReply('ping', { result: 'nope' }), { message: /unexpected result/ });
  t.throws(() => decodeNgReply('query', { result: 'ok' }), { message: /no "created"/ });
});

// The reply rtpengine 10.5.3.5 gave to `query` after offer(wic-tag)/answer(ims-tag) and 5 RTP
// packets of 172 bytes from the IMS side (trimmed to the keys we read, plus some we ignore).
const RTPENGINE_QUERY_REPLY = {
  result: 'ok', created: 1795247879, created_us: 446516, 'last signal': 1795247879, SSRC: {},
  tags: {
    'wic-tag': {
      tag: 'wic-tag', created: 1795247879, subscribers: [{ tag: 'ims-tag', type: 'offer/answer' }],
      medias: [{ index: 1, type: 'audio', protocol: 'UDP/TLS/RTP/SAVPF', flags: ['initialized', 'rtcp-mux', 'DTLS-SRTP', 'ICE'], streams: [
        { 'local port': 27011, 'last packet': 1795247879, flags: ['RTP', 'RTCP'], stats: { packets: 0, bytes: 0, errors: 0 } },
        { 'local port': 0, 'last packet': 1795247879, flags: ['RTCP', 'fallback RTCP'], stats: { packets: 0, bytes: 0, errors: 0 } },
      ] }],
    },
    'ims-tag': {
      tag: 'ims-tag', created: 1795247879, subscribers: [{ tag: 'wic-tag', type: 'offer/answer' }],
      medias: [{ index: 1, type: 'audio', protocol: 'RTP/AVP', streams: [
        { 'local port': 27000, 'last packet': 1795247881, stats: { packets: 5, bytes: 860, errors: 0 } },
        { 'local port': 27001, 'last packet': 1795247879, stats: { packets: 0, bytes: 0, errors: 0 } },
      ] }],
    },
  },
  totals: { RTP: { packets: 5, bytes: 860, errors: 0 }, RTCP: { packets: 0, bytes: 0, errors: 0 } },
} satisfies BencodeDict;

t.test('rtpengine ng query: a real rtpengine reply becomes one row per SIP tag', async (t) => {
  const wire = parseNgFrame(formatNgFrame('q', RTPENGINE_QUERY_REPLY)).dict;
  const result = decodeNgReply('query', wire);
  t.equal(result.created, 1795247879446, 'created: seconds + created_us as epoch milliseconds');
  t.same([...result.streams].sort((a, b) => b.tag.localeCompare(a.tag)), [
    // Nothing came from the WIC, so rtpengine's signalling-time `last packet` is not reported.
    { tag: 'wic-tag', packetsIn: 0, bytesIn: 0, packetsOut: 5, bytesOut: 860 },
    { tag: 'ims-tag', packetsIn: 5, bytesIn: 860, packetsOut: 0, bytesOut: 0, lastPacketAt: 1795247881000 },
  ], 'packetsOut toward a tag = what came in from the tags it is in dialogue with');
});

t.test('rtpengine ng query: our server\'s encoding reads back exactly (stats_out carries packetsOut)', async (t) => {
  const query = {
    created: 1_700_000_000_123,
    streams: [
      { tag: 'a', packetsIn: 10, packetsOut: 7, bytesIn: 1720, bytesOut: 1204, lastPacketAt: 1_700_000_005_000 },
      { tag: 'b', packetsIn: 7, packetsOut: 9, bytesIn: 1204, bytesOut: 1548 },
    ],
  };
  const wire = parseNgFrame(formatNgFrame('q', encodeNgReply('query', query))).dict;
  t.match(wire, { result: 'ok', created: 1_700_000_000, tags: { a: { tag: 'a', medias: [{ streams: [{ stats: { packets: 10 } }] }] } },
    totals: { RTP: { packets: 17, bytes: 2924 } } }, 'rtpengine-shaped reply');
  t.same(decodeNgReply('query', wire), query);
});
