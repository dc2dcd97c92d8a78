/**
 * A virtual UE plugged straight into the P-CSCF's W2 seam (W2SipCore), the way the JSON-RPC
 * plugin will do it: one W2 connection per UE, `transport.send` = `fromClient(conn.id, msg)`,
 * and the session's onSipRequest/onSipResponse feeding `ue.receive`. Test-only: no WebSocket.
 */
import type { W2SipCore } from '../../core/contract/host.js';
import type { SessionCloseReason, W2Connection, W2Session } from '../../core/contract/session.js';
import { createVirtualUe, type VirtualUe, type VirtualUeOptions } from '../../core/ua/index.js';

let nextConnection = 1;

export interface AttachedUe {
  readonly ue: VirtualUe;
  readonly connection: W2Connection;
  /** Ends the W2 session as a dropped WebSocket would (the core releases what it owned). */
  close(): Promise<void>;
}

export function attachVirtualUe(core: W2SipCore, options: Omit<VirtualUeOptions, 'transport' | 'secure'>): AttachedUe {
  const connection: W2Connection = {
    id: `ua-test-${process.pid}-${nextConnection++}`, subprotocol: 'test.ua', path: '/ua', remote: { address: '127.0.0.1', port: 40000 + nextConnection },
    origin: undefined, secure: false, send: async () => undefined, close: () => undefined,
  };
  const ue = createVirtualUe({ ...options, secure: false, transport: { send: (message) => core.fromClient(connection.id, message) } });
  const session: W2Session = {
    onFrame: () => undefined,
    onClose: (_reason: SessionCloseReason) => ue.close(),
    onSipRequest: (request) => ue.receive(request),
    onSipResponse: (response) => ue.receive(response),
    describe: () => ue.describe(),
  };
  core.sessionOpened(connection, session);
  let closed: Promise<void> | undefined;
  return {
    ue, connection,
    close() {
      closed ??= (async () => {
        ue.close();
        await core.sessionClosed(connection.id, { cause: 'remote', code: 1006, reason: '' });
      })();
      return closed;
    },
  };
}
