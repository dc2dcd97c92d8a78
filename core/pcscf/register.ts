import {
  addHeader, contacts, expires as expiresHeader, getHeaders, getParam, nameAddrList, removeHeader, setHeader, to, unquote,
  withUri, formatUri, type ContactBinding, type SipRequest, type SipResponse,
} from '../sip/index.js';
import { withoutParam } from '../sip/model/uri.js';
import type { RegistrationBinding } from '../state/registration-store.js';
import { chargingVectorValue, generateIcid } from './charging.js';
import type { PcscfContext } from './context.js';
import { stripSecAgree, stripUntrustedHeaders, withOptionTags } from './header-hygiene.js';
import { aorOf } from './own-uris.js';
import type { W2Flow } from './w2-flows.js';

/** The id a binding is stored under (RegistrationBinding.id): one per flow, AOR and contact URI. */
export function bindingId(flowKey: string, aor: string, contactUri: string): string {
  return `${flowKey} ${aor} ${contactUri}`;
}

/** Is this REGISTER asking for RFC 5626 outbound (reg-id + instance, `Supported: outbound`)? */
export function wantsOutbound(request: SipRequest): boolean {
  const supported = getHeaders(request, 'Supported').map((s) => s.toLowerCase());
  return contacts(request).some((c) => !('star' in c && c.star) && getParam((c as ContactBinding).params, 'reg-id') !== undefined
    && getParam((c as ContactBinding).params, '+sip.instance') !== undefined) && supported.includes('outbound');
}

/**
 * A REGISTER from a WIC, rewritten for the I-CSCF (TS 24.229 §5.2.2, R-REG-11..16):
 * Path with our flow token (and `;ob` for outbound), Require/Supported path,
 * P-Visited-Network-ID, a fresh P-Charging-Vector, no Security-* or sec-agree, no client
 * Route (we send it to the configured entry point), Request-URI without `transport`.
 */
export function rewriteRegisterTowardIms(request: SipRequest, flow: W2Flow, ctx: PcscfContext, mwTransport: string): SipRequest {
  let out = stripSecAgree(stripUntrustedHeaders(request));
  // R-REG-5: stripUntrustedHeaders took any Bearer token out; a trusted-node REGISTER gets its
  // own Authorization after this (trusted-node.ts, R-REG-9).
  out = removeHeader(out, 'Route');
  if (out.uri.kind === 'sip') out = withUri(out, { ...out.uri, params: withoutParam(out.uri.params, 'transport') });
  out = addHeader(out, 'Path', ctx.uris.path(flow.token, wantsOutbound(request), mwTransport), { first: true });
  out = withOptionTags(out, 'Supported', ['path']);
  out = withOptionTags(out, 'Require', ['path']);
  out = setHeader(out, 'P-Visited-Network-ID', ctx.visitedNetworkId);
  out = setHeader(out, 'P-Charging-Vector', chargingVectorValue(generateIcid(ctx.nodeId), ctx.origIoi));
  return out;
}

/**
 * The registrar's answer on its way back to the WIC (R-REG-17, R-REG-19, R-REG-26):
 * on 200 store or drop the bindings of this flow; 408 from the core becomes 504.
 */
export async function onRegisterResponse(
  request: SipRequest, response: SipResponse, flow: W2Flow, ctx: PcscfContext, trustedNode?: { readonly impi: string },
): Promise<SipResponse> {
  if (response.status === 408) return { ...response, status: 504, reason: 'Server Time-out' };
  if (response.status !== 200) return response;
  const requested = contacts(request);
  if (requested.length === 0) return response; // R-REG-26: a fetch changes nothing we store
  const aor = aorOf(to(request).uri);
  const serviceRoute = getHeaders(response, 'Service-Route');
  const associated = nameAddrList(response, 'P-Associated-URI').map((na) => formatUri(na.uri));
  const granted = contacts(response).filter((c): c is ContactBinding => !('star' in c && c.star));
  const defaultExpires = expiresHeader(response) ?? expiresHeader(request) ?? 3600;
  const outbound = wantsOutbound(request);
  const existing = (await ctx.registrations.byFlow(flow.key)).filter((b) => b.aor === aor);
  for (const contact of requested) {
    if ('star' in contact && contact.star) {
      for (const b of existing) await ctx.registrations.remove(b.id);
      continue;
    }
    const mine = contact as ContactBinding;
    const uri = formatUri(mine.uri);
    const id = bindingId(flow.key, aor, uri);
    // The registrar may decorate the contact (received=, alias=): match on the URI, then on user@host.
    const echoed = granted.find((g) => formatUri(g.uri) === uri) ?? granted.find((g) => aorOf(g.uri) === aorOf(mine.uri));
    const seconds = echoed ? Number(getParam(echoed.params, 'expires') ?? defaultExpires) : 0;
    if (!Number.isFinite(seconds) || seconds <= 0) {
      await ctx.registrations.remove(id); // R-REG-24: de-registration
      continue;
    }
    const instance = unquote(getParam(mine.params, '+sip.instance'));
    const regId = getParam(mine.params, 'reg-id');
    const binding: RegistrationBinding = {
      id, aor, flowKey: flow.key, contact: getHeaders(request, 'Contact').find((c) => c.includes(uri)) ?? uri,
      contactUri: uri, outbound, serviceRoute, associatedUris: associated.length > 0 ? associated : [aor],
      expiresAt: ctx.now() + seconds * 1000,
      // RFC 7118 §4.1: over the "sip" subprotocol the client registers itself; every other plugin drives epcscf's virtual UE.
      registeredBy: flow.connection.subprotocol === 'sip' ? 'client' : 'epcscf',
      ...(trustedNode !== undefined ? { trustedNode: { impi: trustedNode.impi } } : {}),
      ...(instance !== undefined ? { instanceId: instance } : {}),
      ...(typeof regId === 'string' ? { regId: Number(regId) } : {}),
    };
    await ctx.registrations.put(binding);
    if (!existing.some((b) => b.id === id)) await dropReplacedBindings(ctx, binding);
  }
  return response;
}

/**
 * RFC 5626 §6: a registration with the same instance-id and reg-id replaces the binding of the
 * client's previous flow at the registrar; the P-CSCF's copy follows at once, so a request is never
 * routed to the dead flow (a client that moved to this node after its node died, issue #15).
 * Only for a binding new on this flow: refreshes pay nothing.
 */
async function dropReplacedBindings(ctx: PcscfContext, binding: RegistrationBinding): Promise<void> {
  if (binding.instanceId === undefined || binding.regId === undefined) return;
  for (const other of await ctx.registrations.byContactUri(binding.contactUri)) {
    if (other.flowKey !== binding.flowKey && other.aor === binding.aor && other.instanceId === binding.instanceId && other.regId === binding.regId) {
      await ctx.registrations.remove(other.id);
    }
  }
}
