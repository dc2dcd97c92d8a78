/**
 * Test support for core/ua: an in-memory UaTransport that records what the virtual UE sends
 * (round-tripped through the wire format, as the sip-ws plugin would see it) and builders for
 * what the core would answer or send to it. With a FakeClock nothing waits for real.
 */
import type { Test } from 'tap';
import { createVirtualUe, type UaTransport, type VirtualUe, type VirtualUeOptions } from '../../core/ua/index.js';
import {
  createRequest, createResponse, cseq, getHeader, parseMessage, serializeMessage, type SipMessage, type SipRequest, type SipResponse,
} from '../../core/sip/index.js';
import { FakeClock } from './fake-clock.js';

export class RecordingTransport implements UaTransport {
  readonly sent: SipMessage[] = [];
  fail = false;
  async send(message: SipMessage): Promise<void> {
    if (this.fail) throw new Error('W2 connection closed');
    this.sent.push(parseMessage(serializeMessage(message), { datagram: true }));
  }

  requests(method?: string): SipRequest[] {
    return this.sent.filter((m): m is SipRequest => m.kind === 'request' && (method === undefined || m.method === method));
  }

  responses(method?: string): SipResponse[] {
    return this.sent.filter((m): m is SipResponse => m.kind === 'response' && (method === undefined || cseq(m).method === method));
  }

  /** The last request of `method`; throws when there is none (the test then fails with a clear message). */
  last(method: string): SipRequest {
    const found = this.requests(method).at(-1);
    if (found === undefined) throw new Error(`the UE sent no ${method} (sent: ${this.sent.map(describe).join(', ')})`);
    return found;
  }

  lastResponse(method: string): SipResponse {
    const found = this.responses(method).at(-1);
    if (found === undefined) throw new Error(`the UE sent no response to ${method} (sent: ${this.sent.map(describe).join(', ')})`);
    return found;
  }
}

function describe(m: SipMessage): string {
  return m.kind === 'request' ? m.method : `${m.status}/${cseq(m).method}`;
}

/** A response the core relays to the UE. */
export function reply(request: SipRequest, status: number, init: {
  toTag?: string; headers?: [string, string][]; body?: string; reason?: string;
} = {}): SipResponse {
  return createResponse(request, status, init.reason, {
    ...(init.toTag !== undefined ? { toTag: init.toTag } : {}),
    headers: init.headers ?? [],
    ...(init.body !== undefined ? { body: init.body, contentType: 'application/sdp' } : {}),
  });
}

export const CORE_VIA = 'SIP/2.0/WS 127.0.0.1:18080;branch=z9hG4bKcore';
export const RR = ['<sip:127.0.0.1:18080;transport=ws;lr;r2=on;ftok=abc>', '<sip:127.0.0.1:5060;lr;r2=on>'];

/** A request from the IMS side, as the P-CSCF delivers it (its Via on top, double Record-Route). */
export function incoming(method: string, headers: [string, string][], body?: string, uri = 'sip:ue@h.invalid;transport=ws'): SipRequest {
  return createRequest({
    method, uri,
    headers: [['Via', `${CORE_VIA}${Math.random().toString(36).slice(2, 8)}`], ['Max-Forwards', '69'], ...headers,
      ...(body !== undefined ? [['Content-Type', method === 'INFO' ? 'application/dtmf-relay' : 'application/sdp'] as [string, string]] : [])],
    ...(body !== undefined ? { body } : {}),
  });
}

export const OFFER = 'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=sendrecv\r\n';
export const ANSWER = 'v=0\r\no=- 7 1 IN IP4 192.0.2.7\r\ns=-\r\nc=IN IP4 192.0.2.7\r\nt=0 0\r\nm=audio 50000 RTP/AVP 0\r\na=sendrecv\r\n';

export interface UeRig {
  readonly ue: VirtualUe;
  readonly transport: RecordingTransport;
  readonly clock: FakeClock;
}

export function makeUe(t: Test, options: Partial<VirtualUeOptions> = {}): UeRig {
  const transport = new RecordingTransport();
  const clock = new FakeClock();
  const ue = createVirtualUe({
    transport, clock, secure: false,
    identity: { impu: 'sip:alice@ims.test', password: 'alicepw', displayName: 'Alice' },
    ...options,
  });
  t.teardown(() => ue.close());
  return { ue, transport, clock };
}

export const SERVICE_ROUTE = '<sip:orig@127.0.0.1:5070;lr>';

/** Registers with a 200 carrying Service-Route and P-Associated-URI, granting `expires`. */
export async function registeredUe(t: Test, options: Partial<VirtualUeOptions> = {}, expires = 3600): Promise<UeRig> {
  const rig = makeUe(t, options);
  const done = rig.ue.register();
  const register = rig.transport.last('REGISTER');
  rig.ue.receive(reply(register, 200, {
    toTag: 'reg1', headers: [
      ['Contact', `${getHeader(register, 'Contact') ?? ''};expires=${expires}`], ['Service-Route', SERVICE_ROUTE],
      ['P-Associated-URI', '<sip:alice@ims.test>, <tel:+15550100>'],
    ],
  }));
  const info = await done;
  if (info.state !== 'registered') throw new Error(`registration failed in the rig: ${JSON.stringify(info)}`);
  return rig;
}

/** Lets queued promise callbacks run (the UE sends from async code). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
