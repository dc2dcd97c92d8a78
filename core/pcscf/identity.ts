import { formatUri, nameAddrList, parseUri, removeHeader, setHeader, to, type SipMessage, type SipRequest } from '../sip/index.js';
import type { RegistrationBinding } from '../state/registration-store.js';
import { aorOf } from './own-uris.js';

/** The binding of a flow that serves `uriAor`, else the flow's first one. */
export function servingBinding(bindings: readonly RegistrationBinding[], uriAor: string): RegistrationBinding | undefined {
  return bindings.find((b) => b.associatedUris.some((u) => safeAor(u) === uriAor)) ?? bindings[0];
}

function safeAor(uri: string): string | undefined {
  try {
    return aorOf(parseUri(uri));
  } catch {
    return undefined;
  }
}

/**
 * R-ORIG-2 (TS 24.229 §5.2.6.3.3): drop any P-Asserted-Identity from the WIC and insert exactly
 * one: the P-Preferred-Identity when it is one of the registered P-Associated-URIs (PPI then
 * removed), else the default public identity (the first P-Associated-URI).
 * The check happens before PPI is removed (the Kamailio sample gets this order wrong).
 */
export function assertOriginatingIdentity(request: SipRequest, binding: RegistrationBinding): SipRequest {
  const associated = new Set(binding.associatedUris.map(safeAor));
  const preferred = nameAddrList(request, 'P-Preferred-Identity').find((na) => associated.has(aorOf(na.uri)));
  const identity = preferred ? formatUri(preferred.uri) : binding.associatedUris[0] ?? binding.aor;
  const withoutClaims = removeHeader(removeHeader(request, 'P-Asserted-Identity'), 'P-Preferred-Identity');
  return setHeader(withoutClaims, 'P-Asserted-Identity', `<${identity}>`);
}

/**
 * R-TERM-3: on 18x/2xx from the called WIC, replace whatever identity it claims by the
 * registered identity it was called on (the To URI when registered, else the default IMPU).
 */
export function assertTerminatingIdentity<M extends SipMessage>(response: M, request: SipRequest, binding: RegistrationBinding | undefined): M {
  const cleaned = removeHeader(removeHeader(response, 'P-Asserted-Identity'), 'P-Preferred-Identity');
  if (binding === undefined) return cleaned;
  const called = aorOf(to(request).uri);
  const identity = binding.associatedUris.find((u) => safeAor(u) === called) ?? binding.associatedUris[0] ?? binding.aor;
  return setHeader(cleaned, 'P-Asserted-Identity', `<${identity}>`);
}
