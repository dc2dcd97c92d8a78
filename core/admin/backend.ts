/**
 * What the REST admin API needs from the rest of epcscf. The admin module only reads and
 * terminates through this interface; the runtime implements it over core/pcscf (registrations,
 * dialogs, media legs) and the W2 server (plugin sessions). Every type here is JSON-safe: it is
 * sent as it is, checked against the response schemas in ./schemas.ts.
 */

/** A method may answer synchronously (in-memory maps) or asynchronously (Redis). */
export type Awaitable<T> = T | Promise<T>;

/** One registered contact binding (RFC 3261 §10, TS 24.229 5.2.2). */
export interface AdminRegistration {
  /** The id the admin API addresses this binding by: opaque, unique, at most 100 characters (fastify maxParamLength). */
  readonly id: string;
  /** The registered public user identity (To of the REGISTER), e.g. `sip:alice@ims.test`. */
  readonly impu: string;
  /** The Contact URI as registered (RFC 3261 §10.2.1). */
  readonly contact: string;
  /** RFC 5626 §4.1: the `+sip.instance` value, when the UE sent one. */
  readonly instanceId?: string;
  /** RFC 5626 §4.2: the `reg-id` value, when the UE sent one. */
  readonly regId?: number;
  /** The flow this binding is reached over (RFC 5626 flow token), when known. */
  readonly flowId?: string;
  /** The W2 connection (session) the binding belongs to. */
  readonly connectionId?: string;
  /** The W2 plugin that carries it, e.g. 'sip-ws'. */
  readonly plugin?: string;
  /** When the binding expires, ISO 8601 (RFC 3261 §10.2.1.1: from the 200 OK's expires). */
  readonly expiresAt: string;
  /** TS 24.229 5.2.2.1: the P-Associated-URI set the registrar returned. */
  readonly associatedUris: readonly string[];
}

/** One media leg the IMS-ALG opened on the media gateway for a call. */
export interface AdminMediaLeg {
  readonly id: string;
  /** The SDP media type (RFC 4566 §5.14): 'audio', 'video', 'application'... */
  readonly media: string;
  /** Free-form leg state as the media gateway reports it, e.g. 'offered', 'active'. */
  readonly state?: string;
  /** The WIC-side transport address `host:port`, when known. */
  readonly wic?: string;
  /** The IMS-side transport address `host:port`, when known. */
  readonly ims?: string;
}

/** RFC 3261 §12: a dialog is early until a 2xx, then confirmed; 'terminating' once BYE is under way. */
export type AdminCallState = 'early' | 'confirmed' | 'terminating';

/** One INVITE dialog (a call) through epcscf. */
export interface AdminCall {
  /** The id the admin API addresses this call by (at most 100 characters: a short alias of the RFC 3261 §12 dialog id). */
  readonly id: string;
  readonly callId: string;
  /** From and To URIs (name-addr without parameters is enough). */
  readonly from: string;
  readonly to: string;
  readonly state: AdminCallState;
  /** 'originating': the WIC called out; 'terminating': the IMS called the WIC (TS 24.229 5.2.6/5.2.7). */
  readonly direction: 'originating' | 'terminating';
  /** When the INVITE was received, ISO 8601. */
  readonly startedAt: string;
  readonly connectionId?: string;
  readonly plugin?: string;
  readonly mediaLegs: readonly AdminMediaLeg[];
}

/** One W2 plugin session: a WebSocket client and the plugin serving it. */
export interface AdminSession {
  readonly connectionId: string;
  readonly plugin: string;
  /** RFC 6455 §4.2.2: the subprotocol the server selected. */
  readonly subprotocol: string;
  readonly path: string;
  readonly remote: { readonly address: string; readonly port: number };
  /** The handshake Origin (absent for clients that send none). */
  readonly origin?: string;
  /** When the upgrade completed, ISO 8601. */
  readonly openedAt: string;
  /** The plugin's `describe()` snapshot; must be JSON-serialisable. */
  readonly description?: Readonly<Record<string, unknown>>;
}

export interface AdminReadinessCheck {
  readonly ok: boolean;
  readonly detail?: string;
}

/** e.g. `{ ready: false, checks: { mw: { ok: true }, mediaGateway: { ok: false, detail: 'ng ping timed out' } } }` */
export interface AdminReadiness {
  readonly ready: boolean;
  readonly checks: Readonly<Record<string, AdminReadinessCheck>>;
}

/** Counters the metrics read at scrape time (cheap: map sizes, no list building). */
export interface AdminCounts {
  readonly registrations: number;
  readonly calls: number;
  readonly mediaLegs: number;
}

/**
 * Implemented by the runtime. Lookups answer `undefined` for an unknown id and terminations
 * answer `false` (the API turns both into 404); a thrown error becomes a 500 with its
 * EpcError code, except EPC_ERR_INVALID_STATE which becomes 409.
 */
export interface AdminBackend {
  registrations(): Awaitable<readonly AdminRegistration[]>;
  registration(id: string): Awaitable<AdminRegistration | undefined>;
  /** Removes the binding: the P-CSCF de-registers it toward the S-CSCF and closes what it owned. */
  terminateRegistration(id: string): Awaitable<boolean>;

  calls(): Awaitable<readonly AdminCall[]>;
  call(id: string): Awaitable<AdminCall | undefined>;
  /** Releases the call: BYE (or CANCEL while early) both ways, RFC 3326 Reason carrying `reason`. */
  terminateCall(id: string, reason?: string): Awaitable<boolean>;

  sessions(): Awaitable<readonly AdminSession[]>;
  session(connectionId: string): Awaitable<AdminSession | undefined>;
  /** Closes the WebSocket (1000 or 1008); the core then releases what the session owned. */
  terminateSession(connectionId: string): Awaitable<boolean>;

  /** Readiness of the node: e.g. Mw transport bound, media gateway answering ng ping, plugins loaded. */
  readiness(): Awaitable<AdminReadiness>;
  counts(): Awaitable<AdminCounts>;
}
