/**
 * A PUT body must be well-formed XML (RFC 4825 §8.2.1: the server would answer 409
 * <not-xml-frag>; we refuse it before it leaves). No DTD at all: XCAP documents need none, and a
 * DOCTYPE is how entity expansion attacks start. saxes checks; nothing is kept.
 */
import { SaxesParser } from 'saxes';

/** Undefined when `xml` is one well-formed element (an XML declaration allowed), else the problem. */
export function xmlProblem(xml: string): string | undefined {
  // XML 1.0 well-formedness only: an element body may use prefixes its document declares (RFC 4825 §8.2.1).
  const parser = new SaxesParser();
  let problem: string | undefined;
  let roots = 0;
  let depth = 0;
  parser.on('doctype', () => { problem ??= 'a DOCTYPE is not allowed'; });
  parser.on('opentag', () => { if (depth++ === 0) roots++; });
  parser.on('closetag', () => { depth--; });
  parser.on('error', (error) => { problem ??= error.message; });
  try {
    parser.write(xml).close();
  } catch (error) {
    problem ??= (error as Error).message;
  }
  if (problem === undefined && roots !== 1) problem = 'the body must be exactly one XML element';
  return problem;
}
