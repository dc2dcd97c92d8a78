/**
 * plugins/jsonrpc-ws, issue #11 defects 1 and 3: every `pattern` of the wire API is anchored
 * (^...$: an unanchored pattern let the PAI probe through), and client strings that reach SIP
 * are refused with -32602 naming the field before the virtual UE acts on them.
 */
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { apiSchemaValidator } from '../../../../plugins/jsonrpc-ws/schema-validator.js';
import { OFFER } from '../../../support/fake-ua.js';
import { RpcRig } from '../../../support/jsonrpc-session-rig.js';

const PAI_PROBE = 'text/plain\r\nP-Asserted-Identity: <sip:boss@ims.test>\r\n\r\n';
const SCHEMAS = new URL('../../../../schemas/', import.meta.url);

/** Every `pattern` keyword value in a JSON document, with its JSON pointer. */
function patternsOf(node: unknown, pointer = ''): [string, string][] {
  if (Array.isArray(node)) return node.flatMap((item, i) => patternsOf(item, `${pointer}/${i}`));
  if (node === null || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([key, value]) => {
    const here = `${pointer}/${key}`;
    // A property *named* "pattern" under "properties" is not the keyword.
    const keyword = key === 'pattern' && typeof value === 'string' && !pointer.endsWith('/properties');
    return keyword ? [[here, value] as [string, string]] : patternsOf(value, here);
  });
}

/** Anchored at both ends: starts with ^, ends with an unescaped $. */
function isAnchored(pattern: string): boolean {
  if (!pattern.startsWith('^') || !pattern.endsWith('$')) return false;
  let backslashes = 0;
  for (let i = pattern.length - 2; i >= 0 && pattern[i] === '\\'; i--) backslashes++;
  return backslashes % 2 === 0;
}

t.test('issue 11 #1: every pattern in schemas/jsonrpc/** and schemas/openrpc.json is anchored ^...$', async (t) => {
  const files = [
    ...readdirSync(new URL('jsonrpc/', SCHEMAS)).filter((f) => f.endsWith('.json')).map((f) => new URL(`jsonrpc/${f}`, SCHEMAS)),
    new URL('openrpc.json', SCHEMAS),
  ];
  let count = 0;
  for (const file of files) {
    for (const [pointer, pattern] of patternsOf(JSON.parse(readFileSync(file, 'utf8')))) {
      count++;
      t.ok(isAnchored(pattern), `${file.pathname.split('/schemas/')[1]}#${pointer}: ${pattern}`);
      t.doesNotThrow(() => new RegExp(pattern, 'u'), 'compiles as ajv compiles it (u flag)');
    }
  }
  t.ok(count >= 10, `the walk found the patterns (${count})`);
  t.notOk(isAnchored('^text/[a-z]+'), 'the check itself: an open end is caught');
  t.notOk(isAnchored('^a\\$'), 'the check itself: an escaped $ is no anchor');
});

t.test('issue 11 #1/#3: the schemas refuse the probe strings (contentType, displayName, impi) and keep ordinary values', async (t) => {
  const validator = apiSchemaValidator();
  const send = (contentType: string) => validator.check('params', 'message.send', { to: 'sip:bob@ims.test', body: 'x', contentType });
  t.match(send(PAI_PROBE), [{ field: 'contentType' }], 'the PAI probe');
  for (const bad of ['text/plain\n', 'text/plain;', 'text/plain, text/html', 'text/plain;charset="a\r\n"']) t.match(send(bad), [{ field: 'contentType' }], JSON.stringify(bad));
  for (const good of ['text/plain', 'text/plain;charset=UTF-8', 'text/plain; charset="utf-8"', 'application/vnd.gsma.rcs-ft-http+xml']) t.same(send(good), [], good);
  const register = (extra: Record<string, string>) => validator.check('params', 'session.register', { impu: 'sip:alice@ims.test', password: 'pw', ...extra });
  for (const displayName of ['A\r\nX-Evil: 1', 'A\n', 'A\0']) t.match(register({ displayName }), [{ field: 'displayName' }], JSON.stringify(displayName));
  for (const impi of ['a@b\r\nX: y', 'a", nc=1, x="', 'a\\b', 'a b']) t.match(register({ impi }), [{ field: 'impi' }], JSON.stringify(impi));
  t.same(register({ displayName: 'Al "the boss" \\ Ice\t', impi: 'alice@ims.test' }), [], 'quotes in a display name are fine (epcscf escapes them)');
});

t.test('issue 11 #3: a "to"/"target" with URI headers is -32602 naming the field; the UE is never asked', async (t) => {
  const rig = new RpcRig();
  await rig.register();
  const before = rig.ue.actions.length;
  const evil = 'sip:bob@ims.test?X-Evil=1';
  for (const [method, params, field] of [
    ['message.send', { to: evil, body: 'hi' }, 'to'],
    ['call.invite', { to: evil, sdp: OFFER }, 'to'],
    ['subscription.subscribe', { event: 'reg', target: evil }, 'target'],
  ] as const) {
    const answer = await rig.call(method, params);
    t.equal(answer.error?.code, -32602, `${method}: invalid params`);
    t.equal(answer.error?.data?.['field'], field, `${method}: data names ${field}`);
  }
  t.equal(rig.ue.actions.length, before, 'the virtual UE was not asked to send anything');
  const ok = await rig.ok('message.send', { to: 'sip:bob@ims.test', body: 'hi', contentType: 'text/plain;charset=UTF-8' });
  t.equal(ok['accepted'], true);
  t.same(rig.ue.actions.at(-1), { method: 'message', args: ['sip:bob@ims.test', 'hi', 'text/plain;charset=UTF-8'] });
  t.same(rig.violations, []);
});

t.test('issue 11 #3: call.transfer to a target with URI headers is -32602 naming target; no REFER is asked for', async (t) => {
  const rig = new RpcRig();
  await rig.register();
  const { callId } = await rig.ok('call.invite', { to: 'sip:bob@ims.test', sdp: OFFER });
  const call = rig.ue.calls.get(String(callId));
  if (call === undefined) throw new Error('no call');
  call.answered(OFFER);
  const answer = await rig.call('call.transfer', { callId, target: 'sip:carol@ims.test?Replaces=x%3Bto-tag%3Da%3Bfrom-tag%3Db' });
  t.equal(answer.error?.code, -32602);
  t.equal(answer.error?.data?.['field'], 'target');
  t.notOk(call.actions.some((a) => a.method === 'transfer'), 'the call was not asked to transfer');
});
