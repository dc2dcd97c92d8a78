// Issue #3 proof: JsSIP in headless Chromium (the browser's own WebSocket) registers through
// epcscf into Kamailio and receives a call from a sipp UAC via Kamailio (signalling only; the
// IMS-side offer has no ICE/DTLS, so the WIC declines it with 486, which sipp must receive).
import t from 'tap';
import { fileURLToPath } from 'node:url';
import { getHeaders, nameAddrList } from '../../core/sip/index.js';
import { isRequest, isResponse, startEpcscf, startImsCore } from '../support/epcscf-harness.js';
import { allocatePort, releasePort } from '../support/peers/ports.js';
import { runSipp } from '../support/peers/sipp.js';
import { startBrowserWic } from '../support/wic/browser-wic.js';
import { withDeadline } from '../support/wic/jssip-user.js';

const UAC_486 = fileURLToPath(new URL('../fixtures/wic/uac-486.xml', import.meta.url));

/** What test/fixtures/wic/jssip-page.html exposes; these callbacks run inside the page. */
interface WicWindow { wic: { events: string[]; register(ws: string, uri: string, pw: string): Promise<number>; unregister(): Promise<boolean> } }

t.test('R-REG-11, R-TERM-1/2/3: JsSIP in Chromium registers through epcscf and receives a sipp call via Kamailio', async (t) => {
  const core = await startImsCore();
  t.teardown(() => core.stop());
  const epcscf = await startEpcscf({ nextHop: core.uri('udp') });
  t.teardown(() => epcscf.close());
  const browser = await startBrowserWic();
  t.teardown(() => browser.close());

  const status = await withDeadline(
    browser.page.evaluate(([ws]) => (globalThis as unknown as WicWindow).wic.register(ws, 'sip:frank@ims.test', 'secret'), [epcscf.wsUrl] as const),
    10_000, 'browser REGISTER', () => `${browser.console.join('\n')}\n${epcscf.capture.dump()}`);
  t.equal(status, 200, `the browser WIC registered (page console: ${browser.console.join(' | ')})`);
  const register = epcscf.capture.requests('mw', 'out', 'REGISTER').at(-1);
  t.ok(register && nameAddrList(register, 'Path')[0]?.uri.kind === 'sip', 'the REGISTER left on Mw with our Path');
  t.ok(epcscf.capture.requests('w2', 'in', 'REGISTER').length >= 1, 'it came in over W2 from the browser');

  const uacPort = await allocatePort();
  t.teardown(() => releasePort(uacPort));
  const run = await runSipp([`127.0.0.1:${core.port}`, '-sf', UAC_486, '-s', 'frank', '-key', 'domain', 'ims.test',
    '-m', '1', '-i', '127.0.0.1', '-p', String(uacPort)], { timeoutMs: 15_000 });
  t.equal(run.code, 0, 'sipp got 486 from the browser through epcscf and Kamailio', { sippOutput: run.stdout.slice(-1500) });

  const events = await browser.page.evaluate(() => (globalThis as unknown as WicWindow).wic.events);
  t.ok(events.some((e) => e.startsWith('incoming from sip:sipp@127.0.0.1')), `the browser saw the INVITE (${events.join(', ')})`);
  const termInvite = epcscf.capture.entries.find(isRequest('w2', 'out', 'INVITE'))?.message;
  t.ok(termInvite, 'epcscf delivered the INVITE over W2');
  if (termInvite) {
    const rr = nameAddrList(termInvite, 'Record-Route')[0]?.uri;
    t.ok(rr?.kind === 'sip' && rr.port === epcscf.w2Port && rr.user, 'top Record-Route toward the browser is our W2 entry with the flow token (R-TERM-2)');
  }
  const ringing = epcscf.capture.entries.find(isResponse('mw', 'out', 'INVITE', 180))?.message;
  t.ok(ringing, 'the browser\'s 180 left on Mw');
  if (ringing) t.same(getHeaders(ringing, 'P-Asserted-Identity').map((v) => v.replace(/\s/g, '')), ['<sip:frank@ims.test>'], '180 carries PAI = the served identity (R-TERM-3)');
  t.ok(epcscf.capture.entries.some(isResponse('mw', 'out', 'INVITE', 486)), 'the 486 left on Mw');
  // RFC 3261 §17.1.1.3 / §16.7: the ACK for a non-2xx final response is hop by hop.
  await epcscf.capture.waitFor(isRequest('mw', 'in', 'ACK'), { what: 'ACK for the 486 from Kamailio' });
  t.pass('Kamailio ACKed our 486 on Mw');
  await epcscf.capture.waitFor(isRequest('w2', 'out', 'ACK'), { what: 'our ACK for the browser\'s 486' });
  t.pass('epcscf ACKed the browser\'s 486 over W2');

  t.equal(await browser.page.evaluate(() => (globalThis as unknown as WicWindow).wic.unregister()), true, 'the browser de-registers');
});
