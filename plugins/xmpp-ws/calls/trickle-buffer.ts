/**
 * XEP-0176 trickle toward an SDP that leaves once (R-SDP-9: the SIP side does not trickle). A
 * session-initiate or session-accept often carries no candidates (browsers gather after
 * setLocalDescription); the transport-info that follow are kept here and merged into the
 * description before the SDP goes out. Later ones are acknowledged and absorbed: the media
 * gateway is ICE-lite and learns the client's address from its connectivity checks.
 */
import { childrenOf, xmlElement, type XmlElement } from '../xml/element.js';
import { NS } from '../xml/namespaces.js';

/** Whether any content's ICE-UDP transport already lists a candidate. */
export function hasCandidates(jingle: XmlElement): boolean {
  return childrenOf(jingle, 'content', NS.jingle).some((content) =>
    childrenOf(content, 'transport', NS.iceUdp).some((transport) => childrenOf(transport, 'candidate', NS.iceUdp).length > 0));
}

/**
 * The description with the buffered transport-info candidates added to the transports of the
 * contents they name; a transport-info without candidates ("gathering complete" style) adds nothing.
 */
export function withTrickledCandidates(jingle: XmlElement, transportInfos: readonly XmlElement[]): XmlElement {
  if (transportInfos.length === 0) return jingle;
  const children = jingle.children.map((content) => {
    if (content.name !== 'content' || content.ns !== NS.jingle) return content;
    const name = content.attrs.name;
    const trickled = transportInfos.flatMap((info) => childrenOf(info, 'content', NS.jingle)
      .filter((c) => c.attrs.name === name)
      .flatMap((c) => childrenOf(c, 'transport', NS.iceUdp)));
    if (trickled.length === 0) return content;
    const extra = trickled.flatMap((transport) => childrenOf(transport, 'candidate', NS.iceUdp));
    return xmlElement(content.name, content.ns, content.attrs, content.children.map((child) => {
      if (child.name !== 'transport' || child.ns !== NS.iceUdp) return child;
      const first = trickled[0];
      const attrs = { ...child.attrs, ufrag: child.attrs.ufrag ?? first?.attrs.ufrag, pwd: child.attrs.pwd ?? first?.attrs.pwd };
      return xmlElement(child.name, child.ns, attrs, [...child.children, ...extra], child.text);
    }), content.text);
  });
  return xmlElement(jingle.name, jingle.ns, jingle.attrs, children, jingle.text);
}
