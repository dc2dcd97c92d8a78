// A third-party W2 plugin that speaks no SIP: a line-based text chat in which each client is a
// virtual IMS UE (host.ua, core/ua). Client → server: `login <impu> <password>`, `to <uri> <text>`;
// server → client: `registered <status> <state>`, `sent <status>`, `from <uri> <text>`, `error <why>`.
// A published plugin imports the same names from 'epcscf/plugin' (test/unit/package compiles it so).
import { W2_CONTRACT_VERSION, defineW2Plugin, type VirtualUe } from '../../core/contract/index.js';

export default defineW2Plugin({
  meta: { name: 'text-chat', version: '0.1.0', contract: W2_CONTRACT_VERSION, description: 'text chat over WebSocket (RFC 3428 MESSAGE)' },
  bindings: [{ path: '/chat', subprotocols: ['text-chat'], maxFrameBytes: 4096 }],
  init: (host) => ({
    openSession(conn) {
      let ue: VirtualUe | undefined;
      const say = (line: string): Promise<void> => conn.send(line).catch(() => undefined);
      return {
        async onFrame(frame) {
          const [verb = '', target = '', ...words] = String(frame).split(' ');
          try {
            if (verb === 'login' && ue === undefined) {
              ue = host.ua.create(conn, { identity: { impu: target, password: words.join(' ') } });
              ue.on('message', (m) => void say(`from ${m.from.uri} ${m.body}`));
              const info = await ue.register();
              await say(`registered ${info.status ?? 0} ${info.state}`);
            } else if (verb === 'to' && ue !== undefined) {
              await say(`sent ${(await ue.message(target, words.join(' '), 'text/plain')).status}`);
            } else await say('error send "login <impu> <password>" once, then "to <uri> <text>"');
          } catch (error) {
            await say(`error ${(error as Error).message}`);
          }
        },
        onSipRequest: (request) => ue?.receive(request),
        onSipResponse: (response) => ue?.receive(response),
        onClose: () => ue?.close(),
        describe: () => ({ registration: ue?.registration.state ?? 'unregistered' }),
      };
    },
  }),
});
