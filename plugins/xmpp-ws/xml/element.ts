/**
 * The small immutable element tree the XMPP plugin works on. One element per WebSocket message
 * (RFC 7395 §3.3.3). Attribute keys: unprefixed attributes by name, `xml:lang` as written, any
 * other namespaced attribute in Clark notation `{uri}local`. Mixed content is not modelled: the
 * character data of an element is concatenated into `text` (XMPP stanzas do not use mixed
 * content outside XHTML-IM, which this gateway does not render).
 */
export interface XmlElement {
  /** Local name (no prefix). */
  readonly name: string;
  /** Namespace URI, '' when the element is in no namespace. */
  readonly ns: string;
  readonly attrs: Readonly<Record<string, string>>;
  readonly children: readonly XmlElement[];
  readonly text: string;
}

const NO_ATTRS: Readonly<Record<string, string>> = Object.freeze({});
const NO_CHILDREN: readonly XmlElement[] = Object.freeze([]);

/** Builds a frozen element; attributes whose value is undefined are left out. */
export function xmlElement(
  name: string,
  ns: string,
  attrs: Readonly<Record<string, string | number | undefined>> = NO_ATTRS,
  children: readonly XmlElement[] = NO_CHILDREN,
  text = '',
): XmlElement {
  let kept: Record<string, string> | undefined;
  for (const key of Object.keys(attrs)) {
    const value = attrs[key];
    if (value !== undefined) (kept ??= {})[key] = String(value);
  }
  return Object.freeze({
    name,
    ns,
    attrs: kept === undefined ? NO_ATTRS : Object.freeze(kept),
    children: children.length === 0 ? NO_CHILDREN : Object.freeze([...children]),
    text,
  });
}

/** The first child with this local name (and namespace, when given). */
export function childOf(parent: XmlElement, name: string, ns?: string): XmlElement | undefined {
  return parent.children.find((child) => child.name === name && (ns === undefined || child.ns === ns));
}

/** Every child with this local name (and namespace, when given), in document order. */
export function childrenOf(parent: XmlElement, name: string, ns?: string): XmlElement[] {
  return parent.children.filter((child) => child.name === name && (ns === undefined || child.ns === ns));
}
