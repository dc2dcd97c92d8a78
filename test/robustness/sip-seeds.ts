/**
 * The valid (and known-invalid) messages the SIP fuzz mutates: the RFC 4475 and RFC 5118
 * torture messages byte-exact, and the messages a WebRTC client (JsSIP-like, over sip-ws) and
 * an IMS core (on Mw) really send, with the IMS headers the P-CSCF reads (sec-agree, Path,
 * Service-Route, P-Associated-URI, PAI/PPI, P-Charging-Vector, flow-token Routes).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';

export interface SeedMessage {
  readonly name: string;
  readonly bytes: Buffer;
}

const FIXTURES = new URL('../fixtures/', import.meta.url);

/** Every RFC 4475 and RFC 5118 message (valid and invalid), as the files hold them. */
export function tortureMessages(): SeedMessage[] {
  const out: SeedMessage[] = [];
  for (const dir of ['rfc4475/', 'rfc5118/', 'rfc5118/cl-corrected/']) {
    const base = new URL(dir, FIXTURES);
    for (const file of readdirSync(base).sort()) {
      const path = new URL(file, base);
      if (file === 'index.tsv' || file.endsWith('.md') || statSync(path).isDirectory()) continue;
      out.push({ name: `${dir}${file}`, bytes: readFileSync(path) });
    }
  }
  return out;
}

/** A browser offer (JsSIP on Chrome), with CRLF line ends as SIP carries SDP. */
export const BROWSER_OFFER = readFileSync(new URL('sdp/jssip-chrome-offer.sdp', FIXTURES), 'utf8').replace(/\r?\n/g, '\r\n');

const crlf = (lines: readonly string[], body = ''): string =>
  `${lines.join('\r\n')}\r\nContent-Length: ${Buffer.byteLength(body, 'latin1')}\r\n\r\n${body}`;

/** Per-run identifiers so runs do not collide in the P-CSCF's transaction and dialog tables. */
export interface SeedIds {
  readonly id: string;
}

const WIC_VIA = (ids: SeedIds, method: string) => `Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK${method}${ids.id};rport`;
const WIC_CONTACT = '<sip:fz9xq3@df7jal23ls0d.invalid;transport=ws;ob>';
const INSTANCE = '+sip.instance="<urn:uuid:6e6a7d2b-0f3c-4d7a-9b8e-2f1c0a9d4e11>"';

/**
 * What a WebRTC client sends over sip-ws (RFC 7118), unregistered: an initial REGISTER with
 * sec-agree and outbound, dialog-creating requests, mid-dialog requests with a To tag (the
 * open-relay shape: a dialog the P-CSCF never saw), a stray ACK, and responses.
 */
export function wicMessages(ids: SeedIds, pcscfRoute: string, imsHop: string, pcscfW2HostPort = '127.0.0.1:8080') {
  const { id } = ids;
  const from = `From: "Alice" <sip:alice@ims.test>;tag=a${id}`;
  const common = (method: string, seq: number, to = 'To: <sip:bob@ims.test>'): string[] => [
    WIC_VIA(ids, method), 'Max-Forwards: 69', to, from, `Call-ID: ${id}fuzzcall`, `CSeq: ${seq} ${method}`,
  ];
  const midDialogTo = `To: <sip:bob@ims.test>;tag=b${id}`;
  const routes = `Route: <${pcscfRoute};lr>, <sip:orig@${imsHop};lr>`;
  return {
    register: crlf([
      `REGISTER sip:ims.test SIP/2.0`, WIC_VIA(ids, 'REGISTER'), 'Max-Forwards: 69', 'To: <sip:alice@ims.test>',
      `From: <sip:alice@ims.test>;tag=r${id}`, `Call-ID: ${id}fuzzreg`, 'CSeq: 1 REGISTER',
      `Contact: <sip:fz9xq3@df7jal23ls0d.invalid;transport=ws>;reg-id=1;${INSTANCE};expires=600`, 'Expires: 600',
      'Allow: INVITE,ACK,CANCEL,BYE,UPDATE,MESSAGE,OPTIONS,REFER,INFO,NOTIFY', 'Supported: path,gruu,outbound',
      'Security-Client: digest', 'Require: sec-agree', 'Proxy-Require: sec-agree', 'User-Agent: JsSIP 3.10.0',
      'Authorization: Digest username="alice", realm="ims.test", nonce="", uri="sip:ims.test", response=""',
    ]),
    invite: crlf([
      'INVITE sip:bob@ims.test SIP/2.0', ...common('INVITE', 4711), routes, `Contact: ${WIC_CONTACT}`,
      'P-Preferred-Identity: <sip:alice@ims.test>', 'P-Asserted-Identity: <sip:admin@ims.test>', 'Privacy: none',
      'Allow: INVITE,ACK,CANCEL,BYE,UPDATE,MESSAGE,OPTIONS,REFER,INFO,NOTIFY', 'Supported: timer,ice,replaces,outbound,100rel',
      'Session-Expires: 90', 'Content-Type: application/sdp',
    ], BROWSER_OFFER),
    message: crlf([
      'MESSAGE sip:bob@ims.test SIP/2.0', ...common('MESSAGE', 7), routes, 'P-Preferred-Identity: <sip:alice@ims.test>',
      'Content-Type: text/plain',
    ], 'hello bob'),
    options: crlf(['OPTIONS sip:bob@ims.test SIP/2.0', ...common('OPTIONS', 2), 'Accept: application/sdp']),
    subscribe: crlf([
      'SUBSCRIBE sip:alice@ims.test SIP/2.0', ...common('SUBSCRIBE', 3, 'To: <sip:alice@ims.test>'), routes,
      `Contact: ${WIC_CONTACT}`, 'Event: reg', 'Expires: 600', 'Accept: application/reginfo+xml',
    ]),
    cancel: crlf(['CANCEL sip:bob@ims.test SIP/2.0', ...common('CANCEL', 4711), routes]),
    midDialogBye: crlf([`BYE sip:bob@${imsHop};ob SIP/2.0`, ...common('BYE', 4712, midDialogTo), routes]),
    midDialogMessage: crlf([`MESSAGE sip:bob@${imsHop} SIP/2.0`, ...common('MESSAGE', 8, midDialogTo), 'Content-Type: text/plain'], 'relay me'),
    midDialogInfo: crlf([`INFO sip:bob@ims.test SIP/2.0`, ...common('INFO', 9, midDialogTo), routes, 'Content-Type: application/dtmf-relay'], 'Signal=5\r\nDuration=160\r\n'),
    midDialogUpdate: crlf([`UPDATE sip:bob@ims.test SIP/2.0`, ...common('UPDATE', 10, midDialogTo), routes, `Contact: ${WIC_CONTACT}`]),
    strayAck: crlf([`ACK sip:bob@${imsHop} SIP/2.0`, ...common('ACK', 4711, midDialogTo), routes]),
    ack: crlf([`ACK sip:bob@ims.test SIP/2.0`, ...common('ACK', 4711)]),
    ok: crlf([
      'SIP/2.0 200 OK', `Via: SIP/2.0/UDP ${imsHop};branch=z9hG4bKcore${id}`, `From: <sip:carol@ims.test>;tag=c${id}`,
      `To: <sip:alice@ims.test>;tag=a${id}`, `Call-ID: ${id}incoming`, 'CSeq: 1 INVITE', `Contact: ${WIC_CONTACT}`,
      'Content-Type: application/sdp',
    ], BROWSER_OFFER),
    // A response that names the P-CSCF's own W2 address on top and another IMS hop next: a
    // stray response is routed by Via (RFC 3261 §16.7), so this is the response-relay shape.
    strayResponseRelay: crlf([
      'SIP/2.0 200 OK', `Via: SIP/2.0/WSS ${pcscfW2HostPort};branch=z9hG4bKpcscf${id}`, `Via: SIP/2.0/UDP ${imsHop};branch=z9hG4bKims${id}`,
      `From: <sip:carol@ims.test>;tag=c${id}`, `To: <sip:alice@ims.test>;tag=a${id}`, `Call-ID: ${id}relay`, 'CSeq: 1 MESSAGE',
    ]),
    ringing: crlf([
      'SIP/2.0 180 Ringing', `Via: SIP/2.0/UDP ${imsHop};branch=z9hG4bKcore${id}`, `From: <sip:carol@ims.test>;tag=c${id}`,
      `To: <sip:alice@ims.test>;tag=a${id}`, `Call-ID: ${id}incoming`, 'CSeq: 1 INVITE', `Record-Route: <sip:${imsHop};lr>`,
    ]),
  };
}

/**
 * What an IMS core sends a P-CSCF on Mw: a terminating INVITE and MESSAGE (through Path, with
 * the flow-token Route the P-CSCF put there), a NOTIFY, and responses to requests it never sent.
 * The top Via names the fuzzer's own socket with `rport` so answers come back to it.
 */
export function mwMessages(ids: SeedIds, self: { host: string; port: number; transport: 'UDP' | 'TCP' }, pcscf: string) {
  const { id } = ids;
  const via = `Via: SIP/2.0/${self.transport} ${self.host}:${self.port};branch=z9hG4bKmw${id};rport`;
  const common = (method: string, seq: number): string[] => [
    via, 'Max-Forwards: 68', 'To: <sip:alice@ims.test>', `From: "Bob" <sip:bob@ims.test>;tag=b${id}`,
    `Call-ID: ${id}@scscf.ims.test`, `CSeq: ${seq} ${method}`,
  ];
  const flowRoute = `Route: <sip:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA@${pcscf};lr;ob>`;
  return {
    invite: crlf([
      `INVITE sip:fz9xq3@df7jal23ls0d.invalid;transport=ws;ob SIP/2.0`, ...common('INVITE', 1), flowRoute,
      `Record-Route: <sip:mt@${self.host}:${self.port};lr>`, `Contact: <sip:bob@${self.host}:${self.port}>`,
      'P-Asserted-Identity: <sip:bob@ims.test>, <tel:+15550002>', 'P-Charging-Vector: icid-value=AyretyU0dm+6O2IrT5tAFrbHLso=;orig-ioi=ims.test',
      'P-Called-Party-ID: <sip:alice@ims.test>', 'Supported: 100rel,timer', 'Content-Type: application/sdp',
    ], BROWSER_OFFER),
    message: crlf([`MESSAGE sip:alice@ims.test SIP/2.0`, ...common('MESSAGE', 2), flowRoute, 'P-Asserted-Identity: <sip:bob@ims.test>', 'Content-Type: text/plain'], 'hi'),
    notify: crlf([
      `NOTIFY sip:fz9xq3@df7jal23ls0d.invalid;transport=ws SIP/2.0`, ...common('NOTIFY', 3), flowRoute, 'Event: reg',
      'Subscription-State: active;expires=600', 'Content-Type: application/reginfo+xml',
    ], '<?xml version="1.0"?><reginfo xmlns="urn:ietf:params:xml:ns:reginfo" version="0" state="full"/>'),
    bye: crlf([`BYE sip:alice@ims.test SIP/2.0`, ...common('BYE', 4), `Route: <sip:${pcscf};lr>`]),
    options: crlf([`OPTIONS sip:${pcscf} SIP/2.0`, ...common('OPTIONS', 5)]),
    registerOk: crlf([
      'SIP/2.0 200 OK', `Via: SIP/2.0/${self.transport} ${pcscf};branch=z9hG4bKnotours${id}`, 'To: <sip:alice@ims.test>;tag=scscf',
      `From: <sip:alice@ims.test>;tag=r${id}`, `Call-ID: ${id}fuzzreg`, 'CSeq: 2 REGISTER',
      `Contact: <sip:fz9xq3@df7jal23ls0d.invalid;transport=ws>;expires=600`, `Path: <sip:term@${pcscf};lr>`,
      `Service-Route: <sip:orig@${self.host}:${self.port};lr>`, 'P-Associated-URI: <sip:alice@ims.test>, <tel:+15550001>',
    ]),
    unauthorized: crlf([
      'SIP/2.0 401 Unauthorized', `Via: SIP/2.0/${self.transport} ${pcscf};branch=z9hG4bKnotours${id}`, 'To: <sip:alice@ims.test>;tag=scscf',
      `From: <sip:alice@ims.test>;tag=r${id}`, `Call-ID: ${id}fuzzreg`, 'CSeq: 1 REGISTER',
      'WWW-Authenticate: Digest realm="ims.test", nonce="bm9uY2U=", algorithm=MD5, qop="auth"',
    ]),
  };
}
