/**
 * The dev core's proxy: a transaction-stateful proxy (RFC 3261 §16) in one hop role that plays
 * I-CSCF + S-CSCF for a single domain. Initial requests to a registered user go to the contact
 * through the stored Path (RFC 3327 §5.3: Route = Path, Request-URI = contact); the core
 * record-routes itself so in-dialog requests come back through it; responses are forwarded by
 * their client transaction. Demo scope: no forking (the newest binding wins), no IFC.
 */
import {
  createResponse, generateTag, maxForwards, nameAddrList, parseNameAddr, parseUri, setHeader, addHeader,
  tagOf, to, withUri,
} from '../../core/sip/index.js';
import type { SipRequest, SipResponse } from '../../core/sip/index.js';
import type { SipStack } from '../../core/sip/stack.js';
import { createCancel, ServerInviteTransaction } from '../../core/sip/transaction/index.js';
import type { ClientTransaction, ServerTransaction } from '../../core/sip/transaction/index.js';
import type { SipSource, SipTarget } from '../../core/sip/transport/types.js';
import type { LocationStore } from './location-store.js';
import type { Registrar } from './registrar.js';
import { isSelf, nextMaxForwards, removeFirstValue, targetOf } from './routing.js';
import type { SelfAddress } from './routing.js';
import type { UserDirectory } from './user-directory.js';

/** Methods that create dialogs (RFC 3261 §12, RFC 6665, RFC 3515): the core record-routes them. */
const DIALOG_CREATING = new Set(['INVITE', 'SUBSCRIBE', 'REFER', 'NOTIFY']);

export interface DevProxyOptions {
  readonly stack: SipStack;
  readonly self: SelfAddress;
  readonly users: UserDirectory;
  readonly location: LocationStore;
  readonly registrar: Registrar;
}

/** Where a request goes next, or the response that ends it here. */
type Decision = { readonly forward: SipRequest; readonly target: SipTarget } | { readonly reply: SipResponse };

export class DevProxy {
  readonly #options: DevProxyOptions;
  /** INVITE server transaction → the client transaction forwarding it (for CANCEL, RFC 3261 §16.10). */
  readonly #forwardedInvites = new Map<ServerTransaction, ClientTransaction>();

  constructor(options: DevProxyOptions) {
    this.#options = options;
  }

  get #recordRoute(): string {
    const { host, port } = this.#options.self;
    return `<sip:${host.includes(':') ? `[${host}]` : host}:${port};lr>`;
  }

  onRequest(request: SipRequest, tx: ServerTransaction): void {
    if (request.method === 'CANCEL') {
      this.#onCancel(request, tx);
      return;
    }
    const decision = this.#decide(request, tx.source);
    if ('reply' in decision) {
      tx.respond(decision.reply);
      return;
    }
    const client = this.#options.stack.transactions.sendRequest(decision.forward, decision.target, {
      // RFC 3261 §16.7 step 5: 100 Trying is not forwarded; other responses lose our Via.
      onProvisional: (response) => {
        if (response.status > 100) tx.respond(removeFirstValue(response, 'Via'));
      },
      // Timeouts and transport errors arrive here as the synthetic 408/503 (§16.7 step 6 / §16.9).
      onFinal: (response) => {
        this.#forwardedInvites.delete(tx);
        tx.respond(removeFirstValue(response, 'Via'));
      },
    });
    if (tx instanceof ServerInviteTransaction) this.#forwardedInvites.set(tx, client);
  }

  /** The ACK for a 2xx is its own transaction (RFC 3261 §13.2.2.4): forwarded statelessly by Route. */
  onAck(ack: SipRequest): void {
    const decision = this.#decide(ack);
    if ('reply' in decision) return;
    this.#options.stack.sendAck(decision.forward, decision.target).catch(() => undefined);
  }

  /** RFC 3261 §16.10: answer the CANCEL, then cancel the forwarded INVITE if still pending. */
  #onCancel(cancel: SipRequest, tx: ServerTransaction): void {
    const invite = this.#options.stack.transactions.findInviteServerTransaction(cancel);
    if (invite === undefined) {
      tx.respond(createResponse(cancel, 481, 'Call/Transaction Does Not Exist', { toTag: generateTag() }));
      return;
    }
    tx.respond(createResponse(cancel, 200, 'OK'));
    const client = this.#forwardedInvites.get(invite);
    if (client === undefined) return;
    this.#forwardedInvites.delete(invite);
    this.#options.stack.transactions.sendRequest(createCancel(client.request), client.target, { onFinal: () => undefined });
  }

  #decide(incoming: SipRequest, source?: SipSource): Decision {
    const { users, location, registrar, self } = this.#options;
    const hops = maxForwards(incoming);
    if (hops === 0) return { reply: answer(incoming, 483, 'Too Many Hops') };

    // RFC 3261 §16.4: a Route naming us was put there for us (Service-Route, Record-Route).
    let request = incoming;
    let route = nameAddrList(request, 'Route')[0];
    while (route !== undefined && isSelf(route.uri, self)) {
      request = removeFirstValue(request, 'Route');
      route = nameAddrList(request, 'Route')[0];
    }
    let target: SipTarget | undefined = route === undefined ? undefined : targetOf(route.uri);

    if (target === undefined && users.isOurDomain(request.uri)) {
      if (request.method === 'REGISTER') return { reply: registrar.register(request, source) };
      const user = users.byUri(request.uri);
      if (user === undefined) return { reply: answer(request, 404, 'Not Found') };
      // The newest binding wins (no parallel forking in the demo).
      const binding = location.bindings(user.user).sort((a, b) => b.expiresAt - a.expiresAt)[0];
      if (binding === undefined) return { reply: answer(request, 480, 'Temporarily Unavailable') };
      // RFC 3327 §5.3 / RFC 3261 §16.5: retarget to the contact, preload the Path as Route.
      request = withUri(request, binding.contactUri);
      if (binding.path.length > 0) {
        request = setHeader(request, 'Route', [...binding.path]);
        target = targetOf(parseNameAddr(binding.path[0] as string).uri);
      } else {
        target = targetOf(parseUri(binding.contactUri));
      }
    } else if (target === undefined && isSelf(request.uri, self)) {
      // Addressed to the core itself: only OPTIONS (a keep-alive probe) means something.
      return { reply: request.method === 'OPTIONS' ? answer(request, 200, 'OK') : answer(request, 404, 'Not Found') };
    }
    try {
      target ??= targetOf(request.uri);
    } catch {
      return { reply: answer(request, 416, 'Unsupported URI Scheme') };
    }

    // RFC 3261 §16.6: Max-Forwards, Record-Route for dialog-creating requests, our Via on top.
    let forward = setHeader(request, 'Max-Forwards', nextMaxForwards(hops));
    if (DIALOG_CREATING.has(forward.method) && tagOf(to(forward)) === undefined) {
      forward = addHeader(forward, 'Record-Route', this.#recordRoute, { first: true });
    }
    forward = addHeader(forward, 'Via', this.#options.stack.newVia(target.transport), { first: true });
    return { forward, target };
  }
}

/** A final answer from the core acting as UAS (RFC 3261 §8.2.6.2: with a To tag). */
function answer(request: SipRequest, status: number, reason: string): SipResponse {
  return createResponse(request, status, reason, { toTag: generateTag() });
}
