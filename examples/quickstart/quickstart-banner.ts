/**
 * What `npm start` prints once everything is up — the page to open FIRST (the issue: "serves the
 * WIC at http://127.0.0.1:8080/, and prints that URL first"), then the WWSF, then epcscf's own
 * banner (W2 URLs, Mw, IMS core, media, health). Lines tests read: the first line, `  WIC: <url>`,
 * `  WWSF JWKS: <url>` and epcscf's `  W2 <plugin>: <url>`.
 */
import { readyBanner } from '../../core/cli/banner.js';
import type { Quickstart } from './quickstart.js';

export function quickstartBanner(quickstart: Quickstart): string {
  const { wwsf, runtime } = quickstart;
  return [
    `epcscf quickstart: open ${wwsf.url} in two browser tabs, log in as alice in one and bob in the other, and call`,
    '',
    `  WIC: ${wwsf.url}`,
    '  Web login (demo WWSF): alice / alicepw, bob / bobpw, carol / carolpw; "guest" (any password) gets an IMPU of the pool',
    `    ${wwsf.guestPool.join(', ')}`,
    '  The WIC also offers IMS digest: the same user and password, checked by the IMS core.',
    `  WWSF token issuer: ${wwsf.issuer} (guests: ${wwsf.guestIssuer}), audience ${wwsf.audience}, ES256, ${wwsf.tokenTtlSeconds} s`,
    `  WWSF JWKS: ${wwsf.jwksUrl}`,
    ...(runtime.config.admin.bearerKey !== undefined ? [`  epcscf admin.bearerKey of this run: ${runtime.config.admin.bearerKey}`] : []),
    '',
    readyBanner(runtime),
  ].join('\n');
}
