/**
 * A test bed for web authentication over the non-SIP plugins (TS 24.371 scenarios 2/3): epcscf
 * (the real P-CSCF, W2 server, jsonrpc-ws and xmpp-ws) with `webAuth` issuers whose keys are in a
 * JWKS file, in front of the embedded dev IMS core, which trusts epcscf's Mw address only
 * (R-REG-9). Tokens come from test/support/web-tokens.ts; `mwSince` reads what epcscf sent on Mw.
 *
 *   const bed = await startWebAuthBed(t);
 *   const token = await bed.token({ impu: 'sip:bob@ims.test', sub: 'bob@ims.test' });
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';
import { serializeMessage, type SipMessage } from '../../core/sip/index.js';
import { DevImsCore } from '../../examples/dev-ims-core/index.js';
import { startEpcscf, type EpcscfUnderTest } from './epcscf-harness.js';
import { TEST_AUDIENCE, TEST_ISSUER, makeKey, nowSeconds, signToken, writeJwksFile, type TestKey } from './web-tokens.js';

/** A second WWSF whose tokens may only name the guest pool (scenario 3). */
export const GUEST_ISSUER = 'https://guests.wwsf.test';
export const GUEST_POOL = ['sip:guest1@ims.test', 'sip:guest2@ims.test', 'sip:guest3@ims.test'] as const;

export interface WebAuthBed {
  readonly epcscf: EpcscfUnderTest;
  readonly core: DevImsCore;
  readonly key: TestKey;
  /** A token of the main issuer for `impu` (default alice), sub = its user@host, 300 s of life. */
  token(claims?: Readonly<Record<string, unknown>>, now?: number): Promise<string>;
  /** A guest token (scenario 3) for `impu`. */
  guestToken(impu: string): Promise<string>;
  /** Index of the next capture entry (a mark to read from). */
  mark(): number;
  /** Every SIP message epcscf sent on Mw since `from`. */
  mwSince(from: number): SipMessage[];
}

export interface WebAuthBedOptions {
  /** jsonrpc-ws options (e.g. resumeGraceSeconds). */
  readonly jsonRpcOptions?: Record<string, unknown>;
  readonly xmppOptions?: Record<string, unknown>;
  /** Extra `webAuth` keys (clockSkewSeconds...). */
  readonly webAuth?: Record<string, unknown>;
}

export async function startWebAuthBed(t: Test, options: WebAuthBedOptions = {}): Promise<WebAuthBed> {
  const dir = await mkdtemp(join(tmpdir(), 'epcscf-webauth-plugins-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const key = await makeKey('ES256', 'wwsf-1');
  await writeJwksFile(join(dir, 'jwks.json'), [key]);
  const core = await DevImsCore.start({ port: 0 });
  t.teardown(() => core.close());
  const epcscf = await startEpcscf({
    nextHop: core.uri,
    extraPlugins: [
      { name: 'jsonrpc-ws', ...(options.jsonRpcOptions ? { options: options.jsonRpcOptions } : {}) },
      { name: 'xmpp-ws', ...(options.xmppOptions ? { options: options.xmppOptions } : {}) },
    ],
    webAuth: {
      issuers: [
        { issuer: TEST_ISSUER, audience: TEST_AUDIENCE, jwks: { file: join(dir, 'jwks.json') } },
        { issuer: GUEST_ISSUER, audience: TEST_AUDIENCE, jwks: { file: join(dir, 'jwks.json') }, impuPool: [...GUEST_POOL] },
      ],
      ...options.webAuth,
    },
  });
  t.teardown(() => epcscf.close());
  // R-REG-9: the dev core registers without a challenge only what comes from epcscf's Mw address.
  core.trustNode({ host: '127.0.0.1', port: epcscf.mwPort });
  return {
    epcscf, core, key,
    token: (claims = {}, now = nowSeconds()) => {
      const impu = typeof claims['impu'] === 'string' ? claims['impu'] : 'sip:alice@ims.test';
      return signToken({ key, now, claims: { impu, sub: impu.replace(/^sip:/, ''), ...claims } });
    },
    guestToken: (impu) => signToken({ key, claims: { iss: GUEST_ISSUER, impu, sub: impu.replace(/^sip:/, '') } }),
    mark: () => epcscf.capture.entries.length,
    mwSince: (from) => epcscf.capture.entries.slice(from).flatMap((e) => (e.side === 'mw' && e.direction === 'out' ? [e.message] : [])),
  };
}

/** R-REG-5: no Bearer credential, and no token, anywhere in what went on Mw. */
export function bearerOnMw(messages: readonly SipMessage[], token: string): string[] {
  return messages.map((m) => serializeMessage(m).toString()).filter((text) => /Bearer/i.test(text) || text.includes(token));
}
