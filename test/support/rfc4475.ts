/**
 * RFC 4475 torture messages (test/fixtures/rfc4475) and what the RFC says a server answers to
 * each invalid one — shared by the parser tests and the over-WebSocket interop test.
 */
import { readFileSync } from 'node:fs';

export const RFC4475_DIR = new URL('../fixtures/rfc4475/', import.meta.url);

/** [file, 'valid' | 'invalid', note] rows of index.tsv. */
export const RFC4475_INDEX: readonly (readonly [string, string, string])[] = readFileSync(new URL('index.tsv', RFC4475_DIR), 'utf8')
  .trim().split('\n').slice(1).map((line) => line.split('\t') as [string, string, string]);

/** RFC 4475 §3.1.2 / §3.3: the status for each invalid message ('drop' = a response, discarded). */
export const EXPECTED_REJECTION: Readonly<Record<string, number | 'drop'>> = {
  'badinv01.dat': 400, 'clerr.dat': 400, 'ncl.dat': 400, 'scalar02.dat': 400, 'scalarlg.dat': 'drop',
  'quotbal.dat': 400, 'ltgtruri.dat': 400, 'lwsruri.dat': 400, 'lwsstart.dat': 400, 'trws.dat': 400,
  'escruri.dat': 400, 'regbadct.dat': 400, 'badaspec.dat': 400, 'baddn.dat': 400, 'badvers.dat': 505,
  'mismatch01.dat': 400, 'mismatch02.dat': 501, 'bigcode.dat': 'drop', 'insuf.dat': 400, 'multi01.dat': 400,
  'mcl01.dat': 400,
};

/** §3.1.2.12 baddate: "MAY reject"; our parser accepts it (Date is never interpreted). */
export const ACCEPTED_INVALID: ReadonlySet<string> = new Set(['baddate.dat']);
