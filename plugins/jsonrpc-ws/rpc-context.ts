/**
 * What a method handler sees of its session. The session (session.ts) implements it; handlers
 * (methods/*.ts) stay free of WebSocket and JSON-RPC framing.
 */
import type { RegistrationSnapshot, UaIdentity, UtRequest, UtResponse, VirtualUe } from '../../core/contract/index.js';
import type { CallBook } from './call-book.js';
import type { Params } from './notification-params.js';
import type { JsonRpcWsOptions } from './options.js';
import type { ResumeStore } from './resume-store.js';
import type { SubscriptionBook } from './subscription-book.js';

export interface UeStart {
  readonly identity: UaIdentity;
  readonly instanceId?: string;
  readonly expires?: number;
  /** Carry on this registration (issue #15): the UE starts registered, no REGISTER. */
  readonly adopt?: RegistrationSnapshot;
}

export interface RpcContext {
  readonly options: JsonRpcWsOptions;
  /** This connection's virtual UE, once session.register / session.resume made one. */
  readonly ue: VirtualUe | undefined;
  /** The identity the UE registers (for results and notifications). */
  readonly impu: string | undefined;
  /** The UE registers with a web token (scenario 2/3), not a password. */
  readonly usesToken: boolean;
  /** CONF (TS 24.605 §4.2.1): config mmtel.conferenceFactoryUri (host.mmtel); absent: derived from the IMPU's domain. */
  readonly conferenceFactoryUri: string | undefined;
  readonly calls: CallBook;
  readonly subscriptions: SubscriptionBook;
  readonly resume: ResumeStore;
  /** Makes the connection's UE (its events wired to notifications). Throws if one exists. */
  openUe(start: UeStart): VirtualUe;
  /** Drops the UE (ue.close()) and voids this session's resume token. */
  closeUe(): void;
  /** A resume token for the current registration (stored in host.state); undefined when resume is off (grace 0) or the store is unreachable. */
  issueResumeToken(): Promise<string | undefined>;
  /**
   * R-REG-3: the UE's web token is replaced for later requests, and so is the one a resume
   * re-registers with. Throws (EPC_ERR_UA_*) when there is no token UE.
   */
  replaceToken(token: string): void;
  notify(method: string, params: Params): void;
  /**
   * Issue #15: this connection takes over the flow `snapshot` is registered through (host.sip
   * .adoptRegisteredFlow); false when the core cannot (one node) or the binding is gone.
   */
  adoptRegisteredFlow(snapshot: RegistrationSnapshot): Promise<boolean>;
  /** Ut (TS 24.623): one XCAP operation on the registered user's simservs document (host.ut). */
  utRequest(request: UtRequest): Promise<UtResponse>;
}
