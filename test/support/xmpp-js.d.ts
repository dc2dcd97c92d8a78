// Minimal types for xmpp.js (@xmpp/client 0.14 ships none): what the tests use.
declare module '@xmpp/xml' {
  export interface Element {
    readonly name: string;
    readonly attrs: Record<string, string | undefined>;
    readonly children: (Element | string)[];
    is(name: string, xmlns?: string): boolean;
    getChild(name: string, xmlns?: string): Element | undefined;
    getChildren(name: string, xmlns?: string): Element[];
    getChildText(name: string, xmlns?: string): string | null;
    text(): string;
    toString(): string;
  }
  export function xml(name: string, attrs?: Record<string, string | undefined> | null, ...children: (Element | string)[]): Element;
}

declare module '@xmpp/xml/lib/parse.js' {
  import type { Element } from '@xmpp/xml';
  export default function parse(text: string): Element;
}

declare module '@xmpp/client' {
  import type { Element } from '@xmpp/xml';
  export { xml } from '@xmpp/xml';
  export interface Client {
    readonly jid: { toString(): string } | null;
    start(): Promise<unknown>;
    stop(): Promise<unknown>;
    send(element: Element): Promise<void>;
    on(event: 'stanza', listener: (stanza: Element) => void): this;
    on(event: string, listener: (...args: unknown[]) => void): this;
    readonly iqCaller: { request(element: Element, timeout?: number): Promise<Element> };
    readonly iqCallee: {
      get(ns: string, name: string, handler: (context: { stanza: Element; element: Element }) => Element | Promise<Element>): void;
      set(ns: string, name: string, handler: (context: { stanza: Element; element: Element }) => Element | Promise<Element> | boolean): void;
    };
  }
  export function client(options: Record<string, unknown>): Client;
}
