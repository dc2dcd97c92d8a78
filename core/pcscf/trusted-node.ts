/**
 * The REGISTERs epcscf sends as a trusted node (TS 33.203 annex U, TS 24.229 §5.4.1.2.2, R-REG-9):
 * the WIC authenticated with a web token, so the S-CSCF registers without challenging. The
 * Authorization names the IMPI and says `integrity-protected="auth-done"`; nonce and response
 * stay empty (no digest was run).
 */
import {
  addHeader, formatNameAddr, generateCallId, generateTag, getParam, parseNameAddr, removeHeader, setHeader, withoutParam, createRequest,
  type SipRequest,
} from '../sip/index.js';
import type { RegistrationBinding } from '../state/registration-store.js';
import { chargingVectorValue, generateIcid } from './charging.js';
import type { PcscfContext } from './context.js';
import { withOptionTags } from './header-hygiene.js';
import type { W2Flow } from './w2-flows.js';

/** R-REG-9: the Authorization of a trusted-node REGISTER (the IMPI is the token's sub). */
export function trustedNodeAuthorization(impi: string, domain: string, integrityProtected: string): string {
  return `Digest username="${impi}", realm="${domain}", uri="sip:${domain}", nonce="", response="", integrity-protected="${integrityProtected}"`;
}

/** A REGISTER already rewritten toward the IMS, its credentials replaced by the trusted-node ones. */
export function asTrustedNodeRegister(request: SipRequest, impi: string, ctx: PcscfContext, integrityProtected: string): SipRequest {
  return addHeader(removeHeader(request, 'Authorization'), 'Authorization', trustedNodeAuthorization(impi, ctx.domain, integrityProtected));
}

/** The trusted-node facts a stored binding keeps, so epcscf can de-register it alone (R-REG-25). */
export interface TrustedNodeBinding {
  readonly impi: string;
}

/**
 * R-REG-25 / R-REG-24: epcscf, the registering party, de-registers the trusted-node bindings
 * of one AOR on one flow: REGISTER Expires 0 naming each contact, with the trusted-node
 * Authorization. A new Call-ID is fine: RFC 3261 §10.3 step 7 removes a binding on Expires 0
 * whatever its Call-ID. Path, P-Visited-Network-ID and a fresh icid as on any REGISTER.
 */
export function trustedNodeDeregistration(
  bindings: readonly RegistrationBinding[], impi: string, ctx: PcscfContext, integrityProtected: string, path: string,
): SipRequest {
  const aor = (bindings[0] as RegistrationBinding).aor;
  let request = createRequest({
    method: 'REGISTER', uri: `sip:${ctx.domain}`,
    headers: [
      ['Max-Forwards', '70'], ['From', `<${aor}>;tag=${generateTag()}`], ['To', `<${aor}>`],
      ['Call-ID', `${generateCallId()}@${ctx.nodeId}`], ['CSeq', '1 REGISTER'],
      ...bindings.map((b): [string, string] => ['Contact', contactWithoutExpires(b)]),
      ['Expires', '0'],
      ['Authorization', trustedNodeAuthorization(impi, ctx.domain, integrityProtected)],
    ],
  });
  request = addHeader(request, 'Path', path, { first: true });
  request = withOptionTags(request, 'Supported', ['path']);
  request = setHeader(request, 'P-Visited-Network-ID', ctx.visitedNetworkId);
  return setHeader(request, 'P-Charging-Vector', chargingVectorValue(generateIcid(ctx.nodeId), ctx.origIoi));
}

/** The bindings epcscf registered as a trusted node, per AOR, with the IMPI they were registered under. */
export function trustedNodeBindingsByAor(bindings: readonly RegistrationBinding[]): Map<string, { impi: string; bindings: RegistrationBinding[] }> {
  const byAor = new Map<string, { impi: string; bindings: RegistrationBinding[] }>();
  for (const b of bindings) {
    if (b.trustedNode === undefined) continue;
    const entry = byAor.get(b.aor);
    if (entry === undefined) byAor.set(b.aor, { impi: b.trustedNode.impi, bindings: [b] });
    else entry.bindings.push(b);
  }
  return byAor;
}

/** The Contact the client registered (instance, reg-id kept: RFC 5626 §4.2.1), its expires dropped. */
function contactWithoutExpires(binding: RegistrationBinding): string {
  try {
    const contact = parseNameAddr(binding.contact, 'Contact');
    if (getParam(contact.params, 'expires') === undefined) return formatNameAddr(contact);
    return formatNameAddr({ ...contact, params: withoutParam(contact.params, 'expires') });
  } catch {
    return `<${binding.contactUri}>`;
  }
}

export type DeregistrationCause = 'flow-ended' | 'token-expired';

export interface TrustedNodeDeregistrarOptions {
  readonly ctx: PcscfContext;
  readonly integrityProtected: string;
  /** The Mw transport named in our Path. */
  readonly mwTransport: string;
  /** Sends a request of epcscf's own on Mw; resolves on its outcome, whatever it is. */
  readonly send: (request: SipRequest) => Promise<void>;
  /** One de-registration sent (metrics). */
  readonly onSent: (cause: DeregistrationCause, aor: string) => void;
}

/** R-REG-25: epcscf, the registering party of trusted-node registrations, ends them on Mw. */
export class TrustedNodeDeregistrar {
  readonly #options: TrustedNodeDeregistrarOptions;

  constructor(options: TrustedNodeDeregistrarOptions) {
    this.#options = options;
  }

  /** REGISTER Expires 0 for each AOR among `bindings` (already dropped from the store) that epcscf registered as a trusted node. */
  async deregister(flow: W2Flow, bindings: readonly RegistrationBinding[], cause: DeregistrationCause): Promise<void> {
    const { ctx, integrityProtected, mwTransport } = this.#options;
    const sends: Promise<void>[] = [];
    for (const [aor, { impi, bindings: list }] of trustedNodeBindingsByAor(bindings)) {
      const path = ctx.uris.path(flow.token, list.some((b) => b.outbound), mwTransport);
      this.#options.onSent(cause, aor);
      sends.push(this.#options.send(trustedNodeDeregistration(list, impi, ctx, integrityProtected, path)));
    }
    await Promise.all(sends);
  }

  /** expiryEndsRegistration: the token of `aor` on `flow` expired; its trusted-node bindings end. */
  async grantExpired(flow: W2Flow, aor: string): Promise<void> {
    const { ctx } = this.#options;
    const ended = (await ctx.registrations.byFlow(flow.key)).filter((b) => b.aor === aor && b.trustedNode !== undefined);
    for (const binding of ended) await ctx.registrations.remove(binding.id);
    ctx.log.info({ aor, flow: flow.key }, 'web token expired: de-registering (expiryEndsRegistration)');
    await this.deregister(flow, ended, 'token-expired');
  }
}
