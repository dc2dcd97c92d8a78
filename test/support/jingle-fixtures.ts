/**
 * Helpers for the Jingle <-> SDP tests: fixture reading (test/fixtures/jingle, test/fixtures/sdp)
 * and a semantic view of an SDP m-line (what the IMS-ALG reads), so tests compare meaning, not
 * bytes (test/fixtures/jingle/index.tsv).
 */
import { readFileSync } from 'node:fs';
import sdpTransform from 'sdp-transform';
import type { MediaDescription, SessionDescription } from 'sdp-transform';
import type { XmlElement } from '../../plugins/xmpp-ws/xml/element.js';
import { FrameParser } from '../../plugins/xmpp-ws/xml/frame-parser.js';

const FIXTURES = new URL('../fixtures/', import.meta.url);
const parser = new FrameParser({ maxBytes: 1 << 20 });

export function fixtureText(path: string): string {
  return readFileSync(new URL(path, FIXTURES), 'utf8');
}

/** Parses a fixture (or any text) into an element tree with the plugin's own parser. */
export function xml(text: string): XmlElement {
  const parsed = parser.parseDocument(text.trim());
  if (!parsed.ok) throw parsed.error;
  return parsed.element;
}

export function xmlFixture(path: string): XmlElement {
  return xml(fixtureText(path));
}

/** The first descendant (depth-first) with this local name. */
export function find(element: XmlElement, name: string): XmlElement | undefined {
  for (const child of element.children) {
    if (child.name === name) return child;
    const deeper = find(child, name);
    if (deeper !== undefined) return deeper;
  }
  return undefined;
}

export function findAll(element: XmlElement, name: string, out: XmlElement[] = []): XmlElement[] {
  for (const child of element.children) {
    if (child.name === name) out.push(child);
    findAll(child, name, out);
  }
  return out;
}

export function parseSdpText(text: string): SessionDescription {
  return sdpTransform.parse(text.replace(/\r?\n/g, '\r\n'));
}

/** fmtp as a parameter set (XEP-0167 parameters are unordered; "; " and ";" are the same). */
export function fmtpSet(config: string | undefined): string[] {
  return (config ?? '').split(';').map((part) => part.trim().replace(/\s*=\s*/, '=')).filter((part) => part !== '').sort();
}

export interface CandidateView { foundation: string; component: number; transport: string; priority: number; ip: string; port: number; type: string; raddr?: string; rport?: number; tcptype?: string; generation: number }

export function candidateView(candidate: NonNullable<MediaDescription['candidates']>[number]): CandidateView {
  return {
    foundation: String(candidate.foundation), component: candidate.component, transport: String(candidate.transport).toLowerCase(),
    priority: Number(candidate.priority), ip: String(candidate.ip), port: candidate.port, type: candidate.type,
    ...(candidate.raddr !== undefined ? { raddr: String(candidate.raddr) } : {}),
    ...(candidate.rport !== undefined ? { rport: candidate.rport } : {}),
    ...(candidate.tcptype !== undefined ? { tcptype: candidate.tcptype } : {}),
    // XEP-0176: generation is required in Jingle; an SDP without it means generation 0.
    generation: candidate.generation ?? 0,
  };
}

/**
 * What the IMS-ALG reads from one m-line, with session-level inheritance applied
 * (media-gw/sdp/sdp-reading.ts): media, proto, formats, rtpmap, fmtp (as a set), ICE credentials
 * and candidates, fingerprint + setup, mid, rtcp-mux, direction, SSRCs.
 */
export function mediaView(session: SessionDescription, media: MediaDescription) {
  const fingerprint = media.fingerprint ?? session.fingerprint;
  return {
    type: media.type,
    payloads: String(media.payloads ?? '').trim().split(/\s+/).map(Number),
    rtpmap: media.rtp.map((r) => `${r.payload} ${r.codec}/${r.rate ?? ''}${r.encoding !== undefined && r.encoding !== 1 ? `/${r.encoding}` : ''}`).sort(),
    fmtp: Object.fromEntries(media.fmtp.map((f) => [f.payload, fmtpSet(String(f.config))])),
    iceUfrag: String(media.iceUfrag ?? session.iceUfrag ?? ''),
    icePwd: String(media.icePwd ?? session.icePwd ?? ''),
    candidates: (media.candidates ?? []).map(candidateView),
    fingerprint: fingerprint === undefined ? undefined : `${fingerprint.type.toLowerCase()} ${fingerprint.hash.toUpperCase()}`,
    setup: media.setup ?? session.setup,
    mid: media.mid === undefined ? undefined : String(media.mid),
    rtcpMux: media.rtcpMux !== undefined,
    direction: media.direction ?? session.direction ?? 'sendrecv',
    ssrcs: [...new Set((media.ssrcs ?? []).map((s) => Number(s.id)))].sort(),
    ssrcAttributes: (media.ssrcs ?? []).map((s) => `${s.id} ${s.attribute}${s.value !== undefined ? `:${s.value}` : ''}`).sort(),
    ssrcGroups: (media.ssrcGroups ?? []).map((g) => `${g.semantics} ${g.ssrcs}`),
    rtcpFb: (media.rtcpFb ?? []).map((f) => `${f.payload} ${f.type}${f.subtype ? ` ${f.subtype}` : ''}`).sort(),
    extmap: (media.ext ?? []).map((e) => `${e.value}${e.direction && e.direction !== 'sendrecv' ? `/${e.direction}` : ''} ${e.uri}`).sort(),
    crypto: (media.crypto ?? []).map((c) => `${c.id} ${c.suite} ${c.config}${c.sessionConfig ? ` ${c.sessionConfig}` : ''}`),
  };
}
