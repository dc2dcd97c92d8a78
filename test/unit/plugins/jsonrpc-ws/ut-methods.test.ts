/**
 * plugins/jsonrpc-ws ut.get / ut.put / ut.delete (TS 24.623 Ut): the params become one host.ut
 * request for this connection; XCAP answers are results, core/ut refusals are -32030 / -32602 / -32031.
 */
import t from 'tap';
import { EpcError } from '../../../../core/errors.js';
import type { UtRequest, UtResponse } from '../../../../core/contract/index.js';
import { RpcRig, rigShared } from '../../../support/jsonrpc-session-rig.js';

function rigWithUt(answer: (request: UtRequest) => Promise<UtResponse>): { rig: RpcRig; seen: [string, UtRequest][] } {
  const shared = rigShared();
  const seen: [string, UtRequest][] = [];
  const host = Object.assign(Object.create(null) as object, shared.host, {
    ut: { request: (connectionId: string, request: UtRequest) => { seen.push([connectionId, request]); return answer(request); } },
  }) as typeof shared.host;
  return { rig: new RpcRig({}, { ...shared, host }), seen };
}

t.test('TS 24.623: ut.put becomes a PUT for this connection (etag → If-Match, create → If-None-Match: *); the XCAP answer is the result', async (t) => {
  const { rig, seen } = rigWithUt(async (request) => (request.method === 'GET'
    ? { status: 200, etag: '"v1"', contentType: 'application/xcap-el+xml', body: '<communication-diversion/>' }
    : { status: 412, body: '' }));
  await rig.register();
  t.same(await rig.ok('ut.get', { node: 'simservs/communication-diversion' }), { status: 200, etag: '"v1"', contentType: 'application/xcap-el+xml', xml: '<communication-diversion/>' });
  t.same(await rig.ok('ut.put', { node: 'simservs/communication-diversion', xml: '<communication-diversion/>', etag: '"v0"', create: true }), { status: 412 }, 'a 412 is a result');
  t.same(await rig.ok('ut.delete', { path: '/simservs.ngn.etsi.org/users/sip:alice@ims.test/simservs.xml/~~/simservs/communication-diversion' }), { status: 412 });
  t.same(seen, [
    [rig.conn.id, { method: 'GET', node: 'simservs/communication-diversion' }],
    [rig.conn.id, { method: 'PUT', node: 'simservs/communication-diversion', ifMatch: '"v0"', ifNoneMatch: '*', body: '<communication-diversion/>' }],
    [rig.conn.id, { method: 'DELETE', path: '/simservs.ngn.etsi.org/users/sip:alice@ims.test/simservs.xml/~~/simservs/communication-diversion' }],
  ]);
  t.same(rig.violations, [], 'results match schemas/jsonrpc');
});

t.test('ut.*: core/ut refusals map to -32030 (not the own document), -32602 (bad request), -32031 (unavailable)', async (t) => {
  const codes = { forbidden: 'EPC_ERR_UT_FORBIDDEN', bad: 'EPC_ERR_UT_BAD_REQUEST', down: 'EPC_ERR_UT_UNAVAILABLE' } as const;
  const { rig } = rigWithUt(async (request) => { throw new EpcError(codes[request.node as keyof typeof codes], 'why'); });
  await rig.register();
  t.equal((await rig.call('ut.get', { node: 'forbidden' })).error?.code, -32030);
  t.equal((await rig.call('ut.get', { node: 'bad' })).error?.code, -32602);
  t.equal((await rig.call('ut.get', { node: 'down' })).error?.code, -32031);
});

t.test('ut.*: -32001 before session.register; -32031 when the eP-CSCF has no Ut (ut.xcapRoot unset)', async (t) => {
  const { rig } = rigWithUt(async () => ({ status: 200, body: '' }));
  t.equal((await rig.call('ut.get', {})).error?.code, -32001);
  const off = new RpcRig();
  await off.register();
  t.equal((await off.call('ut.get', {})).error?.code, -32031);
});
