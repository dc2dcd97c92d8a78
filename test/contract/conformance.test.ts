/**
 * The W2 plugin conformance suite (issue #12 part 1): what the contract promises a client,
 * checked against every plugin of test/contract/plugin-table.ts (sip-ws, jsonrpc-ws and the
 * example plugins; xmpp-ws is one more row). One runtime loads them all, with the dev IMS core.
 */
import t from 'tap';
import WebSocket from 'ws';
import { ConformanceClient } from './conformance-client.js';
import { FAULT_FRAME, startConformanceBed } from './conformance-rig.js';
import { PLUGIN_TABLE } from './plugin-table.js';

const bed = await startConformanceBed(PLUGIN_TABLE);
t.teardown(() => bed.close());
const w2 = bed.runtime.server.w2;

async function until(what: string, predicate: () => boolean | Promise<boolean>, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

for (const row of PLUGIN_TABLE) {
  const route = bed.runtime.server.plugins.routes.find((r) => r.plugin.name === row.name);
  if (route === undefined) throw new Error(`${row.name} has no route`);
  const subprotocol = route.subprotocols[0] ?? '';
  const url = `${bed.base}${route.path}`;

  /** A client of this plugin and the connection id the server gave it. */
  const open = async (): Promise<{ client: ConformanceClient; id: string }> => {
    const before = new Set(w2.sessions().map((s) => s.id));
    const client = await ConformanceClient.connect(url, subprotocol);
    await until('the session is listed', () => w2.sessions().some((s) => !before.has(s.id) && s.plugin === row.name));
    const id = w2.sessions().find((s) => !before.has(s.id) && s.plugin === row.name)?.id ?? '';
    return { client, id };
  };

  t.test(`${row.name}: open — its subprotocol is echoed (RFC 6455 §4.2.2), the session serves, describe() is a JSON-safe snapshot`, async (t) => {
    const { client, id } = await open();
    t.teardown(() => client.terminate());
    t.equal(client.ws.protocol, subprotocol);
    await row.probe(client);
    const listed = w2.sessions().find((s) => s.id === id);
    t.equal(listed?.plugin, row.name);
    const description = listed?.description;
    if (description !== undefined) t.same(JSON.parse(JSON.stringify(description)), description, 'describe() survives JSON');
    t.equal(bed.closes.get(id)?.length, 0, 'no onClose while the session lives');
  });

  t.test(`${row.name}: an upgrade offering none of its subprotocols is refused with 400 (RFC 6455 §4.2.2)`, async (t) => {
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(url, 'conformance-bogus');
      ws.once('unexpected-response', (_request, response) => { resolve(response.statusCode ?? 0); ws.terminate(); });
      ws.once('open', () => { resolve(101); ws.terminate(); });
      ws.once('error', () => undefined);
    });
    t.equal(status, 400);
  });

  t.test(`${row.name}: a message over its frame limit (${route.maxFrameBytes} bytes) closes with 1009 (RFC 6455 §7.4.1), onClose once`, async (t) => {
    const { client, id } = await open();
    client.send(Buffer.alloc(route.maxFrameBytes + 1, 0x61));
    t.equal((await client.closed).code, 1009);
    await until('onClose ran', () => (bed.closes.get(id)?.length ?? 0) > 0);
    t.match(bed.closes.get(id), [{ cause: 'frame-limit', code: 1009 }]);
  });

  t.test(`${row.name}: a client close gives the plugin onClose exactly once`, async (t) => {
    const { client, id } = await open();
    await row.probe(client);
    client.ws.close(1000, 'bye');
    await client.closed;
    await until('onClose ran', () => (bed.closes.get(id)?.length ?? 0) > 0);
    await new Promise((resolve) => setTimeout(resolve, 100));
    t.match(bed.closes.get(id), [{ cause: 'remote', code: 1000 }]);
    t.equal(bed.closes.get(id)?.length, 1, 'exactly once');
    t.notOk(w2.sessions().some((s) => s.id === id), 'the session is gone from the admin view');
  });

  t.test(`${row.name}: a plugin fault closes only its session, with 1011; the other sessions live on`, async (t) => {
    const faulty = await open();
    const other = await open();
    t.teardown(() => other.client.terminate());
    const faultsBefore = w2.stats().faults[row.name] ?? 0;
    faulty.client.send(FAULT_FRAME);
    t.equal((await faulty.client.closed).code, 1011);
    await until('onClose ran', () => (bed.closes.get(faulty.id)?.length ?? 0) > 0);
    t.match(bed.closes.get(faulty.id), [{ cause: 'fault', code: 1011 }]);
    t.equal(w2.stats().faults[row.name], faultsBefore + 1, 'the fault is counted');
    await row.probe(other.client);
    t.equal(bed.closes.get(other.id)?.length, 0, 'the other session was not closed');
  });

  const register = row.register;
  if (register !== undefined) {
    t.test(`${row.name}: R-REG-25 — a dropped connection leaves no registration behind in the P-CSCF, onClose once`, async (t) => {
      const { client, id } = await open();
      await register(client, { user: 'alice', password: 'alicepw' });
      const ofAlice = async (): Promise<number> => (await bed.runtime.pcscf.registrations.all()).filter((b) => b.aor === 'sip:alice@ims.test').length;
      t.ok(await ofAlice() > 0, 'registered through the plugin');
      client.terminate(); // the TCP connection drops: no close handshake (1006)
      await until('the registration is released', async () => await ofAlice() === 0);
      await until('onClose ran', () => (bed.closes.get(id)?.length ?? 0) > 0);
      t.match(bed.closes.get(id), [{ cause: 'remote', code: 1006 }]);
    });
  }

  const call = row.call;
  if (register !== undefined && call !== undefined) {
    t.test(`${row.name}: R-ORIG-9 — a connection dropped in a call ends the call for the other side and leaves no dialog in the P-CSCF; the other session lives on`, async (t) => {
      const caller = await open();
      const callee = await open();
      t.teardown(() => callee.client.terminate());
      const bob = { user: 'bob', password: 'bobpw' };
      await register(caller.client, { user: 'alice', password: 'alicepw' });
      await register(callee.client, bob);
      const calleeSeesTheEnd = await call(caller.client, callee.client, bob);
      const dialogs = async (): Promise<number> => (await bed.runtime.pcscf.dialogs.all()).length;
      t.ok(await dialogs() > 0, 'the call is a dialog in the P-CSCF');
      caller.client.terminate();
      await calleeSeesTheEnd();
      await until('the dialog is released', async () => await dialogs() === 0);
      await until('onClose ran', () => (bed.closes.get(caller.id)?.length ?? 0) > 0);
      t.equal(bed.closes.get(caller.id)?.length, 1, 'onClose once');
      await row.probe(callee.client);
      t.equal(bed.closes.get(callee.id)?.length, 0, 'the callee session was not closed');
    });
  }
}
