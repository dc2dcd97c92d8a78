/**
 * What the WIC asks the WWSF that served it: `/config.json` (the eP-CSCF endpoints and the
 * home domain) and, in web mode, `POST /api/login` → a short-lived token from its WAF
 * (TS 24.371 §6: scenario 2; user "guest" gets an IMPU from a pool, scenario 3).
 */
import { WicError, type AuthMode, type Protocol } from './w2-client.js';

export interface WicConfig {
  readonly domain: string;
  readonly endpoints: Readonly<Record<Protocol, string>>;
  readonly authModes: readonly AuthMode[];
}

export interface WebLogin {
  readonly token: string;
  readonly impi: string;
  readonly impu: string;
  /** ms since the epoch */
  readonly expiresAt: number;
  readonly displayName?: string;
}

/** 503 while the WWSF does not know the eP-CSCF's endpoints yet: asked again for a few seconds. */
const CONFIG_RETRIES = 10;

export async function loadConfig(): Promise<WicConfig> {
  let response: Response;
  for (let attempt = 1; ; attempt++) {
    try {
      response = await fetch('/config.json', { cache: 'no-store' });
    } catch {
      throw new WicError('The web server that serves this page cannot be reached.');
    }
    if (response.status !== 503 || attempt === CONFIG_RETRIES) break;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  if (!response.ok) throw new WicError(`This page's server has no /config.json (HTTP ${response.status}): it does not tell where the eP-CSCF is.`);
  const config = await response.json() as Partial<WicConfig>;
  if (typeof config.domain !== 'string' || config.endpoints === undefined) throw new WicError('/config.json is missing "domain" or "endpoints".');
  return { domain: config.domain, endpoints: config.endpoints, authModes: config.authModes ?? ['web', 'digest'] };
}

export async function webLogin(user: string, password: string): Promise<WebLogin> {
  let response: Response;
  try {
    response = await fetch('/api/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user, password }) });
  } catch {
    throw new WicError('The web login service cannot be reached.');
  }
  const body = await response.json().catch(() => ({})) as Partial<WebLogin> & { error?: string };
  if (response.status === 404) throw new WicError('This server has no web login (/api/login): choose "IMS password" instead.');
  // Say what to do next, not only what went wrong.
  if (response.status === 401) throw new WicError(`${body.error ?? 'The web login was refused'}: check the user name and password (the demo users are listed below).`);
  if (response.status === 429) throw new WicError(`${body.error ?? 'Too many login attempts'}: wait a minute, then try again.`);
  if (!response.ok) throw new WicError(body.error ?? `The web login failed (HTTP ${response.status}).`);
  if (typeof body.token !== 'string' || typeof body.impu !== 'string') throw new WicError('The web login answered without a token.');
  return { token: body.token, impi: body.impi ?? '', impu: body.impu, expiresAt: body.expiresAt ?? Date.now() + 300_000, ...(body.displayName !== undefined ? { displayName: body.displayName } : {}) };
}
