/**
 * plugins/jsonrpc-ws: the wire API documents — schemas/jsonrpc (runtime validation) and
 * schemas/openrpc.json (generated from them) — agree with the code and with what the plugin sends.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { compileSchema } from '../../../../core/config/json-schema.js';
import { W2_CONTRACT_VERSION } from '../../../../core/contract/contract.js';
import jsonRpcWs, { ALL_METHODS, DEFAULT_JSONRPC_WS_OPTIONS, JSONRPC_SUBPROTOCOL } from '../../../../plugins/jsonrpc-ws/index.js';
import { loadApiCatalogue } from '../../../../plugins/jsonrpc-ws/api-catalogue.js';
import { openRpcFileText } from '../../../../plugins/jsonrpc-ws/openrpc/write-openrpc.js';
import * as rpcErrors from '../../../../plugins/jsonrpc-ws/rpc-errors.js';
import { apiSchemaValidator } from '../../../../plugins/jsonrpc-ws/schema-validator.js';
import { ANSWER, FakeTransferRequest, OFFER } from '../../../support/fake-ua.js';
import { RpcRig, settle } from '../../../support/jsonrpc-session-rig.js';

const api = loadApiCatalogue();
/** Valid values for the params a oneOf tells apart by presence. */
const SAMPLE_VALUES: Record<string, unknown> = { callId: 'c1', target: 'sip:carol@ims.test', replacesCallId: 'c2' };
const openRpc = JSON.parse(readFileSync(new URL('../../../../schemas/openrpc.json', import.meta.url), 'utf8')) as {
  openrpc: string; methods: { name: string; params: { name: string; required: boolean }[]; errors: { $ref: string }[] }[];
  components: { errors: Record<string, { code: number }>; schemas: Record<string, unknown> }; 'x-notifications': { name: string }[];
};

t.test('plugin manifest: jsonrpc-ws, this contract, /jsonrpc with the private subprotocol (R-JR-1), options defaults', async (t) => {
  t.equal(jsonRpcWs.meta.name, 'jsonrpc-ws');
  t.equal(jsonRpcWs.meta.contract, W2_CONTRACT_VERSION);
  t.equal(JSONRPC_SUBPROTOCOL, 'epcscf.jsonrpc.v1');
  t.same(jsonRpcWs.bindings.map((b) => [b.path, b.subprotocols]), [['/jsonrpc', ['epcscf.jsonrpc.v1']]]);
  const options: Record<string, unknown> = {};
  t.same(compileSchema(jsonRpcWs.optionsSchema ?? {}, 'options')(options), []);
  t.same(options, DEFAULT_JSONRPC_WS_OPTIONS, 'the schema defaults are the documented defaults');
  t.match(compileSchema(jsonRpcWs.optionsSchema ?? {}, 'options')({ maxBatch: 0 }), [/options\.maxBatch/]);
});

t.test('schemas/jsonrpc: every implemented method is described, and every described method is implemented', async (t) => {
  t.same(Object.keys(ALL_METHODS).sort(), Object.keys(api.methods).sort());
});

t.test('schemas/jsonrpc: every params, result and notification schema compiles and resolves its references', async (t) => {
  const validator = apiSchemaValidator();
  for (const name of Object.keys(api.methods)) {
    t.type(validator.check('params', name, {}), Array, `${name} params`);
    t.type(validator.check('result', name, {}), Array, `${name} result`);
  }
  for (const name of Object.keys(api.notifications)) t.type(validator.check('notification', name, {}), Array, name);
});

t.test('R-JR-3: the documented application errors are exactly the codes the code uses, in -32000..-32099', async (t) => {
  const inCode = Object.entries(rpcErrors).filter(([, v]) => typeof v === 'number' && v >= -32099 && v <= -32000).map(([, v]) => v as number).sort();
  const documented = Object.keys(api.errors).map(Number).sort();
  t.same(documented, inCode);
  t.equal(rpcErrors.NOT_REGISTERED, -32001);
  t.equal(rpcErrors.NO_MEDIA_RESOURCES, -32003);
  t.equal(rpcErrors.UNKNOWN_CALL, -32004);
  t.equal(rpcErrors.WRONG_STATE, -32005);
  t.equal(rpcErrors.RATE_LIMITED, -32006);
});

t.test('OpenRPC: schemas/openrpc.json is what plugins/jsonrpc-ws/openrpc/write-openrpc.ts generates (no drift)', async (t) => {
  const onDisk = readFileSync(new URL('../../../../schemas/openrpc.json', import.meta.url), 'utf8');
  t.equal(onDisk, openRpcFileText(), 'run: node --import tsx plugins/jsonrpc-ws/openrpc/write-openrpc.ts');
});

t.test('OpenRPC: each method in the document matches the runtime schema (names, required params, errors)', async (t) => {
  t.equal(openRpc.openrpc, '1.3.2');
  t.same(openRpc.methods.map((m) => m.name).sort(), Object.keys(api.methods).sort());
  t.same(openRpc['x-notifications'].map((n) => n.name).sort(), Object.keys(api.notifications).sort());
  const validator = apiSchemaValidator();
  for (const method of openRpc.methods) {
    // An object holding only the document's required params must pass the runtime check except
    // for value constraints: so no violation may name a missing or unknown parameter.
    // A oneOf (call.transfer: target | replacesCallId) needs one of its optional params as well.
    const sample = (name: string): unknown => SAMPLE_VALUES[name] ?? null;
    const requiredOnly = Object.fromEntries(method.params.filter((p) => p.required).map((p) => [p.name, sample(p.name)]));
    const candidates = [requiredOnly, ...method.params.filter((p) => !p.required).map((p) => ({ ...requiredOnly, [p.name]: sample(p.name) }))];
    const shapeOk = candidates.some((candidate) => !(validator.check('params', method.name, candidate) ?? [])
      .some((p) => p.message === 'is required' || p.message === 'is not a known parameter' || /oneOf/.test(p.message)));
    t.ok(shapeOk, `${method.name}: the documented params are the runtime params`);
    const unknownParam = validator.check('params', method.name, { ...requiredOnly, surelyNotAParam: 1 }) ?? [];
    t.ok(unknownParam.length > 0, `${method.name} refuses parameters the document does not list`);
    for (const error of method.errors) t.ok(openRpc.components.errors[error.$ref.split('/').at(-1) ?? ''], `${method.name} ${error.$ref}`);
  }
  t.notMatch(JSON.stringify(openRpc), /#\/\$defs\//, 'every reference points into components');
  for (const ref of JSON.stringify(openRpc).matchAll(/"#\/components\/schemas\/([^"]+)"/g)) t.ok(openRpc.components.schemas[ref[1] ?? ''], `components.schemas.${ref[1] ?? ''}`);
});

t.test('schemas/jsonrpc: every notification the plugin emits validates, and every documented notification is emitted', async (t) => {
  const rig = new RpcRig();
  await rig.register();
  const { callId } = await rig.ok('call.invite', { to: 'sip:bob@ims.test', sdp: OFFER });
  const call = rig.ue.calls.get(String(callId));
  if (!call) throw new Error('no call');
  call.progress(183, ANSWER);
  call.answered(ANSWER);
  call.emit('updated', { sdp: ANSWER, direction: 'inactive' });
  call.emit('referred', new FakeTransferRequest('sip:carol@ims.test'));
  call.emit('transferprogress', { status: 202, reason: 'Accepted', final: false });
  call.emit('info', { contentType: 'application/dtmf-relay', body: 'Signal=5\r\nDuration=160\r\n' });
  call.end({ cause: 'remote', status: 200, reasonHeader: 'SIP;cause=200;text="Call completed elsewhere"' });
  rig.ue.incoming({ uri: 'sip:carol@ims.test' });
  rig.ue.deliverMessage({ from: { uri: 'sip:bob@ims.test' }, contentType: 'text/plain', body: 'hi' });
  await rig.ok('subscription.subscribe', { event: 'reg' });
  rig.ue.subscriptions[0]?.emit('notify', { state: 'active', contentType: 'application/reginfo+xml', body: '<reginfo/>' });
  // TS 24.642 CCBS: a busy call's offer, accepted, then ready and over.
  const busy = await rig.ok('call.invite', { to: 'sip:dave@ims.test', sdp: OFFER });
  rig.ue.calls.get(String(busy.callId))?.end({ cause: 'rejected', status: 486, callCompletion: { uri: 'sip:cc@as.ims.test', mode: 'BS', target: 'sip:dave@ims.test' } });
  await rig.ok('callCompletion.request', { callId: busy.callId });
  rig.ue.callCompletions[0]?.emit('ready', { state: 'ready' });
  await rig.ok('callCompletion.cancel', { callId: busy.callId });
  // CONF (TS 24.605): the focus answers with isfocus, then the RFC 4575 NOTIFY lists the participants.
  const conference = await rig.ok('conference.create', { sdp: OFFER });
  rig.ue.calls.get(String(conference['callId']))?.emit('answered', { sdp: ANSWER, focus: 'sip:conf-1@focus.ims.test' });
  await settle();
  rig.ue.subscriptions.at(-1)?.emit('notify', {
    state: 'active', contentType: 'application/conference-info+xml',
    body: '<conference-info xmlns="urn:ietf:params:xml:ns:conference-info" entity="sip:conf-1@focus.ims.test" state="full" version="1"><users><user entity="sip:alice@ims.test"><endpoint><status>connected</status></endpoint></user></users></conference-info>',
  });
  rig.ue.emit('registration', { state: 'failed', status: 403, reason: 'Forbidden' });
  await rig.frame(JSON.stringify({ jsonrpc: '2.0', method: 'call.hangup', params: { callId: 'gone' } }));
  await settle();
  const emitted = new Set(rig.notifications().map((n) => n.method));
  t.same([...emitted].sort(), Object.keys(api.notifications).sort());
  t.same(rig.violations, [], 'every notification and result matched schemas/jsonrpc');
});
