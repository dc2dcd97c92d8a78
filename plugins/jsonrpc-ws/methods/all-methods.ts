/** Every method of the wire API (schemas/jsonrpc/methods.json lists the same names; a test checks). */
import type { MethodHandler } from '../dispatcher.js';
import { CALL_METHODS } from './call-methods.js';
import { CONFERENCE_METHODS } from './conference-methods.js';
import { MESSAGING_METHODS } from './messaging-methods.js';
import { SESSION_METHODS } from './session-methods.js';
import { TRANSFER_METHODS } from './transfer-methods.js';

export const ALL_METHODS: Readonly<Record<string, MethodHandler>> = {
  ...SESSION_METHODS,
  ...CALL_METHODS,
  ...TRANSFER_METHODS,
  ...MESSAGING_METHODS,
  ...CONFERENCE_METHODS,
};
