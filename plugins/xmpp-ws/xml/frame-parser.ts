/**
 * RFC 7395 §3.3.3: every WebSocket text message is one standalone XML document holding exactly
 * one element (a framing <open/>/<close/>, a stanza, a SASL or stream element). This parser
 * turns one message into an XmlElement tree, or into the RFC 6120 §4.9.3 stream error the peer
 * has earned:
 *  - restricted-xml (§4.9.3.18, §11.1): DOCTYPE/DTD subsets, entity references other than the
 *    five predefined ones, comments, processing instructions. Nothing is ever expanded or
 *    fetched: saxes does not process DTDs, and the first DOCTYPE aborts the parse.
 *  - not-well-formed (§4.9.3.13): syntax, unbound prefixes, illegal characters (&#0;), more
 *    than one top-level element, an unclosed element.
 *  - policy-violation (§4.9.3.12, "a stanza exceeds a configured size limit"): more bytes,
 *    depth, attributes or children than the configured bounds. Checked while parsing, so a
 *    20,000-deep nesting stops at depth maxDepth + 1.
 *  - unsupported-encoding (§4.9.3.22, §11.6): an XML declaration naming anything but UTF-8.
 *  - invalid-namespace (§4.9.3.10; RFC 7395 §3.3.1-3.3.2): open/close outside the framing
 *    namespace, a legacy <stream:stream>, a top-level element in no namespace.
 *
 * Each message is parsed as its own document: no namespace or xml:lang state can leak from one
 * message into the next (RFC 7395 §3.3.3), and a failed message leaves nothing behind.
 * Invalid UTF-8 never reaches here: see xml/utf8.ts.
 */
import { SaxesParser, type SaxesAttributeNS, type SaxesStartTagNS, type SaxesTagNS } from 'saxes';
import { xmlElement, type XmlElement } from './element.js';
import { NS, XML_NAMESPACE } from './namespaces.js';
import { XmppStreamError } from './stream-error.js';

export interface FrameLimits {
  /** Largest message in UTF-8 bytes (RFC 6120 §13.12 asks servers to accept at least 10000). */
  readonly maxBytes: number;
  /** Deepest element nesting; the top-level element is depth 1. */
  readonly maxDepth: number;
  /** Most attributes on one element, namespace declarations included. */
  readonly maxAttributes: number;
  /** Most child elements under one element. */
  readonly maxChildren: number;
}

export const DEFAULT_FRAME_LIMITS: FrameLimits = Object.freeze({
  maxBytes: 65_536,
  maxDepth: 32,
  maxAttributes: 64,
  maxChildren: 256,
});

/** What one message turned out to be. */
export type XmppFrame =
  | { readonly kind: 'open'; readonly element: XmlElement }
  | { readonly kind: 'close'; readonly element: XmlElement; readonly seeOtherUri: string | undefined }
  | { readonly kind: 'element'; readonly element: XmlElement };

export type FrameParseResult =
  | { readonly ok: true; readonly frame: XmppFrame }
  | { readonly ok: false; readonly error: XmppStreamError };

interface OpenElement {
  readonly name: string;
  readonly ns: string;
  readonly attrs: Record<string, string>;
  readonly children: XmlElement[];
  text: string;
}

/** saxes reports failures as Errors with these messages (saxes 6 `fail()` calls). */
function conditionOfSaxesFailure(message: string): XmppStreamError {
  // RFC 6120 §11.1: an entity reference other than the predefined five is restricted XML.
  if (message.includes('undefined entity')) return new XmppStreamError('restricted-xml', 'entity reference other than the predefined ones');
  return new XmppStreamError('not-well-formed', message);
}

function attributeKey(attribute: SaxesAttributeNS): string | undefined {
  if (attribute.prefix === 'xmlns' || (attribute.prefix === '' && attribute.local === 'xmlns')) return undefined;
  if (attribute.uri === '') return attribute.local;
  if (attribute.uri === XML_NAMESPACE) return `xml:${attribute.local}`;
  return `{${attribute.uri}}${attribute.local}`;
}

/**
 * Holds the limits; every call parses one whole WebSocket message, synchronously, so one
 * instance can serve many connections (the plugin shares one per load: an idle connection then
 * holds no saxes state).
 */
export class FrameParser {
  readonly limits: FrameLimits;

  constructor(limits: Partial<FrameLimits> = {}) {
    this.limits = Object.freeze({ ...DEFAULT_FRAME_LIMITS, ...limits });
  }

  /** One WebSocket message -> a classified RFC 7395 frame, or the stream error it earns. */
  parse(message: string): FrameParseResult {
    const parsed = this.parseDocument(message);
    if (!parsed.ok) return parsed;
    try {
      return { ok: true, frame: classify(parsed.element) };
    } catch (error) {
      if (error instanceof XmppStreamError) return { ok: false, error };
      throw error;
    }
  }

  /** The same checks and bounds without the RFC 7395 framing rules (any single-element document). */
  parseDocument(message: string): { readonly ok: true; readonly element: XmlElement } | { readonly ok: false; readonly error: XmppStreamError } {
    // A UTF-16 code unit is at least one UTF-8 byte: no need to count when length already says no.
    if (message.length > this.limits.maxBytes || Buffer.byteLength(message, 'utf8') > this.limits.maxBytes) {
      return { ok: false, error: new XmppStreamError('policy-violation', `message larger than ${this.limits.maxBytes} bytes`) };
    }
    try {
      return { ok: true, element: this.#parseElement(message) };
    } catch (error) {
      if (error instanceof XmppStreamError) return { ok: false, error };
      if (error instanceof Error) return { ok: false, error: conditionOfSaxesFailure(error.message) };
      throw error;
    }
  }

  // One saxes parser per FrameParser, reused: a successful close() re-initializes it for the next
  // document (saxes `end()` -> `_init()`), so no state survives between messages. After a failure
  // its state is undefined, so it is dropped and a fresh one is made.
  #sax: SaxesParser<{ xmlns: true; position: false }> | undefined;
  #stack: OpenElement[] = [];
  #root: XmlElement | undefined;
  #attributeCount = 0;

  #parseElement(message: string): XmlElement {
    const sax = this.#sax ?? this.#createSax();
    this.#sax = undefined;
    this.#stack = [];
    this.#root = undefined;
    sax.write(message).close();
    this.#sax = sax;
    const root = this.#root;
    this.#root = undefined;
    if (root === undefined) throw new XmppStreamError('not-well-formed', 'no element in the message');
    return root;
  }

  #createSax(): SaxesParser<{ xmlns: true; position: false }> {
    const { maxDepth, maxAttributes, maxChildren } = this.limits;
    // No error handler: saxes then throws on the first failure, which stops the parse there.
    const parser = new SaxesParser({ xmlns: true, position: false });
    parser.on('doctype', () => {
      throw new XmppStreamError('restricted-xml', 'DTD');
    });
    parser.on('comment', () => {
      throw new XmppStreamError('restricted-xml', 'comment');
    });
    parser.on('processinginstruction', () => {
      throw new XmppStreamError('restricted-xml', 'processing instruction');
    });
    parser.on('xmldecl', (declaration) => {
      // RFC 6120 §11.6: UTF-8 only.
      if (declaration.encoding !== undefined && declaration.encoding.toLowerCase() !== 'utf-8') {
        throw new XmppStreamError('unsupported-encoding', `encoding ${declaration.encoding}`);
      }
    });
    parser.on('opentagstart', (_tag: SaxesStartTagNS) => {
      // RFC 7395 §3.3.3: exactly one element per message.
      if (this.#root !== undefined) throw new XmppStreamError('not-well-formed', 'more than one top-level element in one message');
      const stack = this.#stack;
      if (stack.length + 1 > maxDepth) throw new XmppStreamError('policy-violation', `nesting deeper than ${maxDepth}`);
      const parent = stack[stack.length - 1];
      if (parent !== undefined && parent.children.length + 1 > maxChildren) {
        throw new XmppStreamError('policy-violation', `more than ${maxChildren} child elements`);
      }
      this.#attributeCount = 0;
    });
    parser.on('attribute', () => {
      if (++this.#attributeCount > maxAttributes) throw new XmppStreamError('policy-violation', `more than ${maxAttributes} attributes`);
    });
    parser.on('opentag', (tag: SaxesTagNS) => {
      const attrs: Record<string, string> = {};
      for (const attribute of Object.values(tag.attributes)) {
        const key = attributeKey(attribute);
        if (key !== undefined) attrs[key] = attribute.value;
      }
      this.#stack.push({ name: tag.local, ns: tag.uri, attrs, children: [], text: '' });
    });
    const appendText = (text: string): void => {
      const top = this.#stack[this.#stack.length - 1];
      if (top !== undefined) top.text += text;
    };
    parser.on('text', appendText);
    parser.on('cdata', appendText);
    parser.on('closetag', () => {
      const open = this.#stack.pop();
      if (open === undefined) return;
      const done = xmlElement(open.name, open.ns, open.attrs, open.children, open.text);
      const parent = this.#stack[this.#stack.length - 1];
      if (parent !== undefined) parent.children.push(done);
      else this.#root = done;
    });
    return parser;
  }
}

/** RFC 7395 §3.3.1-3.3.2, §3.4, §3.6. */
function classify(element: XmlElement): XmppFrame {
  if (element.name === 'open' || element.name === 'close') {
    if (element.ns !== NS.framing) throw new XmppStreamError('invalid-namespace', `<${element.name}/> outside ${NS.framing}`);
    return element.name === 'open'
      ? { kind: 'open', element }
      : { kind: 'close', element, seeOtherUri: element.attrs['see-other-uri'] };
  }
  // RFC 7395 §3.3.2: no <stream:stream> wrapper over WebSocket.
  if (element.name === 'stream' && element.ns === NS.stream) throw new XmppStreamError('invalid-namespace', 'legacy <stream:stream> header');
  // RFC 6120 §4.9.3.10: a top-level element must be in a supported content namespace.
  if (element.ns === '') throw new XmppStreamError('invalid-namespace', `<${element.name}/> in no namespace`);
  return { kind: 'element', element };
}
