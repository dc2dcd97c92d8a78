/** Every method of the wire API (schemas/jsonrpc/methods.json lists the same names; a test checks). */
import type { MethodHandler } from '../dispatcher.js';
import { CALL_COMPLETION_METHODS } from './call-completion-methods.js';
import { CALL_METHODS } from './call-methods.js';
import { DEFLECT_METHODS } from './deflect-method.js';
import { CONFERENCE_METHODS } from './conference-methods.js';
import { MESSAGING_METHODS } from './messaging-methods.js';
import { SESSION_METHODS } from './session-methods.js';
import { TRANSFER_METHODS } from './transfer-methods.js';
import { UT_METHODS } from './ut-methods.js';

export const ALL_METHODS: Readonly<Record<string, MethodHandler>> = {
  ...SESSION_METHODS,
  ...CALL_METHODS,
  ...TRANSFER_METHODS,
  ...MESSAGING_METHODS,
  ...UT_METHODS,
  ...DEFLECT_METHODS,
  ...CALL_COMPLETION_METHODS,
  ...CONFERENCE_METHODS,
};
