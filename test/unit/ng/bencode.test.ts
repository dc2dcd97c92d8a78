import t from 'tap';
import fc from 'fast-check';
import { BencodeError, decodeBencode, encodeBencode, type BencodeValue } from '../../../media-gw/ng/bencode.js';

const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');

t.test('BEP 3: known vectors decode', async (t) => {
  t.equal(decodeBencode(bytes('4:spam')), 'spam', 'byte string');
  t.equal(decodeBencode(bytes('0:')), '', 'empty byte string');
  t.equal(decodeBencode(bytes('i3e')), 3, 'integer');
  t.equal(decodeBencode(bytes('i-3e')), -3, 'negative integer');
  t.equal(decodeBencode(bytes('i0e')), 0, 'zero');
  t.same(decodeBencode(bytes('l4:spam4:eggse')), ['spam', 'eggs'], 'list');
  t.same(decodeBencode(bytes('le')), [], 'empty list');
  t.same({ ...decodeBencode(bytes('d3:cow3:moo4:spam4:eggse')) as object }, { cow: 'moo', spam: 'eggs' }, 'dictionary');
  t.same({ ...decodeBencode(bytes('d4:spaml1:a1:bee')) as object }, { spam: ['a', 'b'] }, 'dictionary holding a list');
  t.same({ ...decodeBencode(bytes('d7:command4:pinge')) as object }, { command: 'ping' }, 'rtpengine ng ping');
  t.same(decodeBencode(bytes('3:\xff\x00a'), { bytes: 'buffer' }), Buffer.from([0xff, 0, 0x61]), 'binary bytes as Buffer');
  t.equal(decodeBencode(Buffer.from('3:h\u00e9', 'utf8')), 'h\u00e9', 'UTF-8 byte string as string');
});

t.test('BEP 3: encoding is canonical — keys sorted as raw bytes, strings as UTF-8 with their byte length', async (t) => {
  t.equal(encodeBencode({ spam: 'eggs', cow: 'moo' }).toString('latin1'), 'd3:cow3:moo4:spam4:eggse');
  t.equal(encodeBencode({ command: 'ping' }).toString('latin1'), 'd7:command4:pinge', 'rtpengine ping');
  t.equal(encodeBencode({ result: 'pong' }).toString('latin1'), 'd6:result4:ponge', 'rtpengine pong');
  t.equal(encodeBencode('h\u00e9').toString('latin1'), '3:h\xc3\xa9', 'é is two UTF-8 bytes');
  t.equal(encodeBencode([1, -2, 0, -0]).toString('latin1'), 'li1ei-2ei0ei0ee', '-0 is written as 0');
  t.equal(encodeBencode({ a: 1, b: undefined }).toString('latin1'), 'd1:ai1ee', 'undefined members are left out');
  t.equal(encodeBencode({ b: 1, a: 2, B: 3 }).toString('latin1'), 'd1:Bi3e1:ai2e1:bi1ee', 'uppercase sorts first (bytes)');
  t.throws(() => encodeBencode(1.5), { code: 'EPC_ERR_MEDIA' }, 'fractions cannot be encoded');
  t.throws(() => encodeBencode(2 ** 53), { code: 'EPC_ERR_MEDIA' }, 'nor unsafe integers');
});

t.test('rtpengine ng docs: dictionary keys in any order are accepted (rtpengine does not sort them)', async (t) => {
  t.same({ ...decodeBencode(bytes('d7:command5:offer7:call-id1:x8:from-tag1:fe')) as object },
    { command: 'offer', 'call-id': 'x', 'from-tag': 'f' });
  t.same({ ...decodeBencode(bytes('d1:bi1e1:ai2ee')) as object }, { b: 1, a: 2 });
});

t.test('BEP 3 strictness: malformed input is a coded BencodeError with the offset', async (t) => {
  const cases: [string, RegExp][] = [
    ['i-0e', /negative zero/], ['i03e', /leading zero/], ['ie', /empty number/], ['i1', /end of input/],
    ['i1xe', /invalid digit/], ['i+1e', /invalid digit/], ['03:abc', /leading zero/], ['5:abc', /runs past the end/],
    ['-1:a', /unexpected byte/], ['d1:ai1e1:ai2ee', /duplicate key "a"/], ['di1ei2ee', /key is not a byte string/],
    ['l', /unterminated list/], ['d', /unterminated dictionary/], ['d1:ae', /key "a" has no value/], ['d1:a', /key "a" has no value/], ['x', /unexpected byte 0x78/],
    ['', /end of input/], ['i1ei2e', /trailing bytes/], ['4:spamX', /trailing bytes/], ['e', /unexpected byte/],
    ['i9007199254740992e', /beyond 2\^53/], ['99999999999999999999:', /beyond 2\^53/],
  ];
  for (const [input, reason] of cases) {
    const error = t.throws(() => decodeBencode(bytes(input)), BencodeError, JSON.stringify(input)) as unknown;
    t.ok(error instanceof BencodeError && error.code === 'EPC_ERR_MEDIA' && reason.test(error.message),
      `${JSON.stringify(input)} → ${error instanceof Error ? error.message : ''}`);
  }
  t.equal(decodeBencode(bytes('i9007199254740991e')), Number.MAX_SAFE_INTEGER, '2^53-1 is still fine');
  t.throws(() => decodeBencode(bytes('2:\xc3(')), { message: /not valid UTF-8/ }, 'invalid UTF-8 in string mode');
  const error = t.throws(() => decodeBencode(bytes('l4:spam9:eggse'))) as unknown;
  t.equal((error as BencodeError).offset, 7, 'offset points at the bad string');
});

t.test('bounded decoding: depth, value count and size limits', async (t) => {
  t.throws(() => decodeBencode(bytes('l'.repeat(40) + 'e'.repeat(40))), { message: /nesting deeper than 32/ }, 'default depth 32');
  t.same(decodeBencode(bytes('llee'), { maxDepth: 2 }), [[]], 'depth 2 allowed');
  t.throws(() => decodeBencode(bytes('lllee' + 'e'), { maxDepth: 2 }), { message: /nesting/ });
  t.throws(() => decodeBencode(bytes('li1ei2ei3ee'), { maxValues: 3 }), { message: /too many values/ });
  t.throws(() => decodeBencode(bytes('d1:ai1e1:bi1ee'), { maxValues: 3 }), { message: /too many values/ }, 'keys count too');
  t.throws(() => decodeBencode(bytes('4:spam'), { maxBytes: 5 }), { message: /exceeds the 5-byte limit/ });
  // A deep document fails fast, without recursing past the limit.
  const deep = bytes('l'.repeat(200_000));
  t.throws(() => decodeBencode(deep), BencodeError, '200 000 nested lists: a coded error, no stack overflow');
});

t.test('wire keys like __proto__ stay plain data', async (t) => {
  const decoded = decodeBencode(bytes('d9:__proto__d1:xi1eee')) as Record<string, unknown>;
  t.same(Object.keys(decoded), ['__proto__']);
  t.equal(({} as Record<string, unknown>)['x'], undefined, 'Object.prototype untouched');
});

// Property tests ---------------------------------------------------------------------------

const valueArb = (leaf: fc.Arbitrary<BencodeValue>): fc.Arbitrary<BencodeValue> => fc.letrec<{ v: BencodeValue }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.maxSafeInteger(),
    fc.array(tie('v'), { maxLength: 5 }),
    fc.dictionary(fc.string({ unit: 'grapheme', maxLength: 8 }), tie('v'), { maxKeys: 5 }),
  ),
})).v;

t.test('property: decode(encode(v)) == v for byte strings (Buffer mode)', async (t) => {
  fc.assert(fc.property(valueArb(fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b))), (value) => {
    const decoded = decodeBencode(encodeBencode(value), { bytes: 'buffer' });
    t.same(decoded, value);
    return true;
  }), { numRuns: 300 });
});

t.test('property: decode(encode(v)) == v for Unicode strings, and encoding is deterministic', async (t) => {
  fc.assert(fc.property(valueArb(fc.string({ unit: 'binary', maxLength: 30 })), (value) => {
    const encoded = encodeBencode(value);
    const decoded = decodeBencode(encoded);
    t.same(decoded, value);
    t.same(encodeBencode(decoded as BencodeValue), encoded, 're-encoding gives the same bytes');
    return true;
  }), { numRuns: 300 });
});

t.test('property: any byte sequence either decodes or fails with a BencodeError', async (t) => {
  const alphabet = fc.constantFrom(...'0123456789ield:-e'.split('').map((c) => c.charCodeAt(0)), 0x61, 0xff);
  fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 60 }), fc.array(alphabet, { maxLength: 60 }).map((a) => Uint8Array.from(a))), (input) => {
    try {
      decodeBencode(input, { bytes: 'buffer' });
    } catch (error) {
      if (!(error instanceof BencodeError)) throw error;
    }
    return true;
  }), { numRuns: 2000 });
  t.pass('no other exception type escaped');
});
