/**
 * A cap on the registration bindings one source IP holds (issue 11: "registrations per IP"):
 * every binding costs a stored record here and a registration at the S-CSCF, and one host
 * opening connections and registering contact after contact could fill both.
 *
 * Only a REGISTER that would add a binding is checked: a contact this flow has not yet bound
 * for the AOR, with a non-zero expiry. A refresh of an existing binding, a de-registration
 * (expires 0, `Contact: *`) and a fetch (no Contact) always pass, so a client at the cap is
 * never cut off from keeping or dropping what it has. The count is read from the registration
 * store (the one record of bindings) for the live flows of the address, only on that path.
 *
 * The refusal is 503 with Retry-After (R-ORIG-12, RFC 3261 §21.5.4: a temporary condition of
 * this server, which ends as bindings of the address expire or are removed; the registrar never
 * saw the request), not 403, which says the request should not be repeated (§21.4.4) although
 * the same REGISTER may well succeed later.
 */
import { contacts, createResponse, expires, formatUri, getParam, to, type ContactBinding, type SipRequest, type SipResponse } from '../sip/index.js';
import type { RegistrationStore } from '../state/registration-store.js';
import { aorOf } from './own-uris.js';
import { bindingId } from './register.js';
import type { W2Flow } from './w2-flows.js';

/** Seconds the client is asked to wait (RFC 3261 §20.33): bindings of the address have to expire or go first. */
export const REGISTRATIONS_RETRY_AFTER_SECONDS = 60;

export class RegistrationLimits {
  readonly #max: number;
  readonly #registrations: RegistrationStore;
  readonly #flowsFrom: (address: string) => Iterable<W2Flow>;

  constructor(maxPerIp: number, registrations: RegistrationStore, flowsFrom: (address: string) => Iterable<W2Flow>) {
    this.#max = maxPerIp;
    this.#registrations = registrations;
    this.#flowsFrom = flowsFrom;
  }

  /** A REGISTER over `flow`: the refusal to send when it would take its address past the cap, else undefined. */
  async admit(request: SipRequest, flow: W2Flow): Promise<SipResponse | undefined> {
    const added = await this.#newBindings(request, flow);
    if (added === 0) return undefined;
    let held = 0;
    for (const other of this.#flowsFrom(flow.connection.remote.address)) held += (await this.#registrations.byFlow(other.key)).length;
    if (held + added <= this.#max) return undefined;
    // RFC 3261 §21.5.4 + §20.33: temporary, with when to try again; the reason phrase says why.
    return createResponse(request, 503, `Service Unavailable - too many registrations from this address (at most ${this.#max})`, {
      headers: [['Retry-After', String(REGISTRATIONS_RETRY_AFTER_SECONDS)]],
    });
  }

  /** How many bindings a 200 to this REGISTER would add (the ids onRegisterResponse stores). */
  async #newBindings(request: SipRequest, flow: W2Flow): Promise<number> {
    const requested = contacts(request);
    if (requested.length === 0 || requested.some((c) => 'star' in c && c.star)) return 0; // fetch or remove-all
    const defaultExpires = expires(request);
    const aor = aorOf(to(request).uri);
    let held: ReadonlySet<string> | undefined;
    let added = 0;
    for (const contact of requested as ContactBinding[]) {
      const asked = getParam(contact.params, 'expires');
      const seconds = typeof asked === 'string' ? Number(asked) : defaultExpires;
      if (seconds === 0) continue; // RFC 3261 §10.2.2: a removal
      held ??= new Set((await this.#registrations.byFlow(flow.key)).map((b) => b.id));
      if (!held.has(bindingId(flow.key, aor, formatUri(contact.uri)))) added++;
    }
    return added;
  }
}
