import { ownCopies, ownCopy } from '../sip/own-copy.js';

/**
 * Registrations the P-CSCF keeps (R-REG-17): per W2 flow and AOR, the stored Service-Route,
 * P-Associated-URI set, contact and expiry. The interface is asynchronous so that a Redis store
 * (clustered deployments) can replace the in-memory one without touching the procedures.
 */
export interface RegistrationBinding {
  /** `${flowKey} ${aor} ${contactUri}`. */
  readonly id: string;
  /** Canonical AOR of the To header, e.g. `sip:alice@ims.test`. */
  readonly aor: string;
  /** The flow (W2 connection) the registration was made over, as `FlowKey.of()` writes it. */
  readonly flowKey: string;
  /** The registered Contact value as the client sent it. */
  readonly contact: string;
  /** The Contact URI (for looking a binding up by the Request-URI of a terminating request). */
  readonly contactUri: string;
  readonly instanceId?: string;
  readonly regId?: number;
  /** The client asked for RFC 5626 outbound (reg-id + instance): dead flow → 430, else 480. */
  readonly outbound: boolean;
  /** Service-Route values from the 200 OK, in order (RFC 3608). */
  readonly serviceRoute: readonly string[];
  /** P-Associated-URI URIs, first = default public identity (RFC 7315 §4.1). */
  readonly associatedUris: readonly string[];
  /** Epoch ms. */
  readonly expiresAt: number;
  /** Who sent the REGISTER: the client itself (sip-ws) or epcscf's virtual UE (non-SIP plugins). */
  readonly registeredBy: 'client' | 'epcscf';
  /**
   * Set when epcscf registered it as a trusted node after a web token (R-REG-9): the IMPI for
   * the de-registration epcscf sends when the flow ends (R-REG-25).
   */
  readonly trustedNode?: { readonly impi: string };
}

export interface RegistrationStore {
  put(binding: RegistrationBinding): Promise<void>;
  remove(id: string): Promise<void>;
  /** Live (unexpired) bindings of one flow. */
  byFlow(flowKey: string): Promise<RegistrationBinding[]>;
  /** Live bindings whose contact URI is `contactUri`. */
  byContactUri(contactUri: string): Promise<RegistrationBinding[]>;
  /** Every live binding (admin views). */
  all(): Promise<RegistrationBinding[]>;
  /** Drops every binding of a flow (the flow died). Returns what was dropped. */
  removeFlow(flowKey: string): Promise<RegistrationBinding[]>;
}

/**
 * Binding ids under one index key: the id itself while there is one (the usual case: one
 * binding per flow and per contact), a Set from the second on. Saves a Set per binding.
 */
type IdIndex = Map<string, string | Set<string>>;

/**
 * In-memory store, indexed by flow and by contact URI (lookups never scan every binding). It
 * keeps its own copies of the binding's strings (own-copy.ts: never views into SIP message text).
 */
export class MemoryRegistrationStore implements RegistrationStore {
  readonly #byId = new Map<string, RegistrationBinding>();
  readonly #byFlow: IdIndex = new Map();
  readonly #byContact: IdIndex = new Map();
  readonly #now: () => number;

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  async put(given: RegistrationBinding): Promise<void> {
    const binding = detached(given, this.#byId.get(given.id));
    this.#delete(binding.id);
    this.#byId.set(binding.id, binding);
    index(this.#byFlow, binding.flowKey, binding.id);
    index(this.#byContact, binding.contactUri, binding.id);
  }

  async remove(id: string): Promise<void> {
    this.#delete(id);
  }

  async byFlow(flowKey: string): Promise<RegistrationBinding[]> {
    return this.#live(idsOf(this.#byFlow, flowKey));
  }

  async byContactUri(contactUri: string): Promise<RegistrationBinding[]> {
    return this.#live(idsOf(this.#byContact, contactUri));
  }

  async all(): Promise<RegistrationBinding[]> {
    return this.#live([...this.#byId.keys()]);
  }

  async removeFlow(flowKey: string): Promise<RegistrationBinding[]> {
    const gone: RegistrationBinding[] = [];
    for (const id of idsOf(this.#byFlow, flowKey)) {
      const b = this.#byId.get(id);
      if (b) gone.push(b);
      this.#delete(id);
    }
    return gone;
  }

  #delete(id: string): void {
    const b = this.#byId.get(id);
    if (b === undefined) return;
    this.#byId.delete(id);
    unindex(this.#byFlow, b.flowKey, id);
    unindex(this.#byContact, b.contactUri, id);
  }

  /** The unexpired bindings among `ids`; expired ones are dropped on the way (RFC 3261 §10.3). */
  #live(ids: readonly string[]): RegistrationBinding[] {
    const now = this.#now();
    const out: RegistrationBinding[] = [];
    for (const id of ids) {
      const b = this.#byId.get(id);
      if (b === undefined) continue;
      if (b.expiresAt <= now) this.#delete(id);
      else out.push(b);
    }
    return out;
  }
}

/**
 * `b` with its own copies of every string. A refresh (the same binding again, the usual
 * REGISTER) reuses the copies the stored binding already has instead of copying again.
 */
function detached(b: RegistrationBinding, stored: RegistrationBinding | undefined): RegistrationBinding {
  const own = (value: string, previous: string | undefined): string => (value === previous ? previous : ownCopy(value));
  const ownList = (values: readonly string[], previous: readonly string[] | undefined): readonly string[] =>
    previous !== undefined && values.length === previous.length && values.every((v, i) => v === previous[i]) ? previous : ownCopies(values);
  return {
    ...b,
    id: stored?.id ?? ownCopy(b.id), aor: own(b.aor, stored?.aor), flowKey: own(b.flowKey, stored?.flowKey),
    contact: own(b.contact, stored?.contact), contactUri: own(b.contactUri, stored?.contactUri),
    serviceRoute: ownList(b.serviceRoute, stored?.serviceRoute), associatedUris: ownList(b.associatedUris, stored?.associatedUris),
    ...(b.instanceId !== undefined ? { instanceId: own(b.instanceId, stored?.instanceId) } : {}),
  };
}

/** A snapshot of the ids under `key` (callers delete while iterating). */
function idsOf(map: IdIndex, key: string): string[] {
  const entry = map.get(key);
  if (entry === undefined) return [];
  return typeof entry === 'string' ? [entry] : [...entry];
}

function index(map: IdIndex, key: string, id: string): void {
  const entry = map.get(key);
  if (entry === undefined) map.set(key, id);
  else if (typeof entry === 'string') { if (entry !== id) map.set(key, new Set([entry, id])); }
  else entry.add(id);
}

function unindex(map: IdIndex, key: string, id: string): void {
  const entry = map.get(key);
  if (entry === undefined) return;
  if (typeof entry === 'string') {
    if (entry === id) map.delete(key);
    return;
  }
  entry.delete(id);
  if (entry.size === 1) map.set(key, entry.values().next().value as string);
}
