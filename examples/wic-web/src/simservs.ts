/**
 * The three service settings the WIC offers, read from and written to the user's TS 24.623
 * simservs document (XCAP, RFC 4825): CFU (TS 24.604 §4.9.1.4: a communication-diversion rule
 * with no condition), BAIC (TS 24.611 §4.9.1.2: an incoming-communication-barring rule with no
 * condition and allow false) and the OIR default (TS 24.607 §4.9.1.3: default-behaviour).
 */
export const SIMSERVS_NS = 'http://uri.etsi.org/ngn/params/xml/simservs/xcap';
export const COMMON_POLICY_NS = 'urn:ietf:params:xml:ns:common-policy';

export const NODES = {
  cdiv: 'simservs/communication-diversion',
  icb: 'simservs/incoming-communication-barring',
  oir: 'simservs/originating-identity-presentation-restriction',
} as const;

export interface ServiceSettings {
  /** CFU on, and where to. */
  readonly forwardAll: boolean;
  readonly forwardTo: string;
  /** BAIC on. */
  readonly barIncoming: boolean;
  /** OIR temporary mode, restricted by default. */
  readonly hideNumber: boolean;
}

const escapeXml = (s: string): string => s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

function children(parent: Element, ns: string, name: string): Element[] {
  return Array.from(parent.getElementsByTagNameNS(ns, name));
}

/** An unconditional rule: no <conditions> or an empty one (TS 24.604 §4.9.1.4, TS 24.611). */
function unconditionalRules(service: Element): Element[] {
  return children(service, COMMON_POLICY_NS, 'rule').filter((rule) => {
    const conditions = children(rule, COMMON_POLICY_NS, 'conditions')[0];
    return conditions === undefined || conditions.children.length === 0;
  });
}

/** Reads the simservs document (the whole of it, from ut.get without a node). */
export function readSettings(xml: string): ServiceSettings {
  const doc = new DOMParser().parseFromString(xml, 'application/xml');
  const find = (name: string): Element | undefined => children(doc.documentElement, SIMSERVS_NS, name)[0];
  const active = (e: Element | undefined): boolean => e !== undefined && e.getAttribute('active') !== 'false';
  const cdiv = find('communication-diversion');
  const cfu = cdiv !== undefined && active(cdiv) ? unconditionalRules(cdiv).find((r) => children(r, SIMSERVS_NS, 'forward-to').length > 0) : undefined;
  const target = cfu !== undefined ? children(cfu, SIMSERVS_NS, 'target')[0]?.textContent?.trim() ?? '' : '';
  const icb = find('incoming-communication-barring');
  const barred = icb !== undefined && active(icb)
    && unconditionalRules(icb).some((r) => children(r, SIMSERVS_NS, 'allow')[0]?.textContent?.trim() === 'false');
  const oir = find('originating-identity-presentation-restriction');
  const hidden = active(oir) && oir !== undefined && children(oir, SIMSERVS_NS, 'default-behaviour')[0]?.textContent?.trim() === 'presentation-restricted';
  return { forwardAll: cfu !== undefined, forwardTo: target, barIncoming: barred, hideNumber: hidden };
}

/** TS 24.604: communication-diversion with one CFU rule (on) or no rule (off). */
export function cdivElement(on: boolean, target: string): string {
  const rules = on ? `<cp:rule id="cfu"><cp:conditions/><cp:actions><forward-to><target>${escapeXml(target)}</target><notify-caller>true</notify-caller></forward-to></cp:actions></cp:rule>` : '';
  return `<communication-diversion xmlns="${SIMSERVS_NS}" xmlns:cp="${COMMON_POLICY_NS}" active="${on}"><cp:ruleset>${rules}</cp:ruleset></communication-diversion>`;
}

/** TS 24.611: incoming-communication-barring with one BAIC rule (on) or no rule (off). */
export function icbElement(on: boolean): string {
  const rules = on ? '<cp:rule id="baic"><cp:conditions/><cp:actions><allow>false</allow></cp:actions></cp:rule>' : '';
  return `<incoming-communication-barring xmlns="${SIMSERVS_NS}" xmlns:cp="${COMMON_POLICY_NS}" active="${on}"><cp:ruleset>${rules}</cp:ruleset></incoming-communication-barring>`;
}

/** TS 24.607 §4.9.1.3: OIR in temporary mode, restricted or not by default. */
export function oirElement(hide: boolean): string {
  return `<originating-identity-presentation-restriction xmlns="${SIMSERVS_NS}" active="true"><default-behaviour>${hide ? 'presentation-restricted' : 'presentation-not-restricted'}</default-behaviour></originating-identity-presentation-restriction>`;
}
