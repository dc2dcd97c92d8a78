import { EpcError } from '../../../core/contract/index.js';

/** RFC 6120 §4.9.3: the defined stream error conditions. */
export const STREAM_ERROR_CONDITIONS = [
  'bad-format', 'bad-namespace-prefix', 'conflict', 'connection-timeout', 'host-gone', 'host-unknown',
  'improper-addressing', 'internal-server-error', 'invalid-from', 'invalid-namespace', 'invalid-xml',
  'not-authorized', 'not-well-formed', 'policy-violation', 'remote-connection-failed', 'reset',
  'resource-constraint', 'restricted-xml', 'see-other-host', 'system-shutdown', 'undefined-condition',
  'unsupported-encoding', 'unsupported-feature', 'unsupported-stanza-type', 'unsupported-version',
] as const;

export type StreamErrorCondition = (typeof STREAM_ERROR_CONDITIONS)[number];

/**
 * A stream-level fault: RFC 6120 §4.9.1.1 makes every stream error unrecoverable, so whoever
 * gets one sends it (xml/framing.ts streamErrorFrames) and closes the stream. `detail` is for
 * logs; it is never sent to the peer (it may echo attacker input).
 */
export class XmppStreamError extends EpcError {
  readonly condition: StreamErrorCondition;
  readonly detail: string;
  constructor(condition: StreamErrorCondition, detail: string) {
    super('EPC_ERR_XMPP_STREAM', `${condition}: ${detail}`);
    this.name = 'XmppStreamError';
    this.condition = condition;
    this.detail = detail;
  }
}
