/**
 * A small in-process IMS core stand-in for `npm start` and demos: registrar with digest auth
 * over a users file + a proxy routing between registered users by their Path. Not used by the
 * interop tests (they use Kamailio). One SipStack on UDP and TCP on the same port.
 */
import { createSocket } from 'node:dgram';
import { fileURLToPath } from 'node:url';
import type { SipRequest } from '../../core/sip/index.js';
import { SipStack } from '../../core/sip/stack.js';
import type { TimerValues } from '../../core/sip/transaction/timers.js';
import type { TransportLog } from '../../core/sip/transport/transport.js';
import { LocationStore } from './location-store.js';
import { DevProxy } from './proxy.js';
import { Registrar } from './registrar.js';
import { TrustedNodes, type TrustedNodeAddress } from './trusted-nodes.js';
import { UserDirectory } from './user-directory.js';
import type { DevUsersFile } from './user-directory.js';

/** The users file shipped with the example: alice, bob, carol @ ims.test. */
export const DEFAULT_USERS_FILE = fileURLToPath(new URL('./users.json', import.meta.url));

export interface DevImsCoreOptions {
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 5070; 0 picks a free port. */
  readonly port?: number;
  /** A users file path or its content; default DEFAULT_USERS_FILE. */
  readonly users?: string | DevUsersFile;
  /** Serve this domain instead of the users file's (the CLI passes `mw.domain`). */
  readonly domain?: string;
  readonly timers?: Partial<TimerValues>;
  readonly log?: TransportLog;
  /**
   * Nodes trusted to register users without a challenge (R-REG-9: epcscf's Mw address; more
   * with `trustNode` once it is known). Default: none, every REGISTER is challenged.
   */
  readonly trustedNodes?: readonly TrustedNodeAddress[];
  /** The integrity-protected value of a trusted-node REGISTER (epcscf's webAuth.integrityProtected); default auth-done. */
  readonly integrityProtected?: string;
}

export class DevImsCore {
  readonly stack: SipStack;
  readonly users: UserDirectory;
  readonly location: LocationStore;
  readonly registrar: Registrar;
  readonly #host: string;
  readonly #port: number;

  private constructor(stack: SipStack, users: UserDirectory, location: LocationStore, registrar: Registrar, host: string, port: number) {
    this.stack = stack;
    this.users = users;
    this.location = location;
    this.registrar = registrar;
    this.#host = host;
    this.#port = port;
  }

  static async start(options: DevImsCoreOptions = {}): Promise<DevImsCore> {
    const host = options.host ?? '127.0.0.1';
    const loaded = typeof options.users === 'object' ? new UserDirectory(options.users) : await UserDirectory.load(options.users ?? DEFAULT_USERS_FILE);
    const users = options.domain === undefined ? loaded : new UserDirectory({ domain: options.domain, users: loaded.users });
    let proxy: DevProxy | undefined;
    const onRequest = (request: SipRequest, tx: Parameters<DevProxy['onRequest']>[1]): void => proxy?.onRequest(request, tx);
    const base = {
      ...(options.timers !== undefined ? { timers: options.timers } : {}),
      ...(options.log !== undefined ? { log: options.log } : {}),
      onRequest,
      onStrayAck: (ack: SipRequest) => proxy?.onAck(ack),
    };
    // TCP on the same port as UDP (RFC 3261 §18: a SIP server listens on both). With port 0 the
    // free UDP port may be taken on TCP by some outgoing connection: try another one.
    let port = 0;
    let stack: SipStack | undefined;
    for (let attempt = 0; stack === undefined; attempt++) {
      port = await freeUdpPort(host, options.port ?? 5070);
      try {
        stack = await SipStack.start({ ...base, listeners: [`udp:${hostForListener(host)}:${port}`, `tcp:${hostForListener(host)}:${port}`] });
      } catch (error) {
        if (options.port !== 0 || attempt >= 9) throw error;
      }
    }
    const location = new LocationStore();
    const self = { host, port };
    const registrar = new Registrar({
      users, location, selfHostPort: `${hostForListener(host)}:${port}`, trustedNodes: new TrustedNodes(options.trustedNodes),
      ...(options.integrityProtected !== undefined ? { integrityProtected: options.integrityProtected } : {}),
    });
    proxy = new DevProxy({ stack, self, users, location, registrar });
    return new DevImsCore(stack, users, location, registrar, host, port);
  }

  /** Trust `node` (epcscf's Mw address) to register users without a challenge (R-REG-9). */
  trustNode(node: TrustedNodeAddress): void {
    this.registrar.trustedNodes.add(node);
  }

  /** The URI to use as `mw.nextHop` (its I-CSCF entry point). */
  get uri(): string {
    return `sip:${hostForListener(this.#host)}:${this.#port};transport=udp`;
  }

  get address(): { host: string; port: number } {
    return { host: this.#host, port: this.#port };
  }

  get domain(): string {
    return this.users.domain;
  }

  close(): Promise<void> {
    return this.stack.close();
  }
}

/** Port 0: let UDP pick an ephemeral port, then reuse it for both transports. */
async function freeUdpPort(host: string, port: number): Promise<number> {
  if (port !== 0) return port;
  const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, host, () => resolve());
  });
  const chosen = socket.address().port;
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return chosen;
}

function hostForListener(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
