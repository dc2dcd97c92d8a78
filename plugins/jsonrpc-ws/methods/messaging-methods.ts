/**
 * message.send (MESSAGE, RFC 3428), subscription.subscribe / unsubscribe (reg RFC 3680,
 * message-summary RFC 3842) and rpc.discover (the OpenRPC document).
 */
import { EpcError } from '../../../core/contract/index.js';
import { readRepositoryJson } from '../api-catalogue.js';
import type { MethodHandler } from '../dispatcher.js';
import { RATE_LIMITED, rpcError } from '../rpc-errors.js';
import { registeredUe } from './guards.js';

const send: MethodHandler = async (params, ctx) => {
  const ue = registeredUe(ctx);
  const contentType = params['contentType'];
  const outcome = await ue.message(String(params['to']), String(params['body']), typeof contentType === 'string' ? contentType : undefined);
  return { accepted: outcome.status >= 200 && outcome.status < 300, sipStatus: outcome.status, reason: outcome.reason };
};

const subscribe: MethodHandler = async (params, ctx) => {
  const ue = registeredUe(ctx);
  if (ctx.subscriptions.size >= ctx.options.maxSubscriptions) {
    throw rpcError(RATE_LIMITED, { limit: 'maxSubscriptions', maxSubscriptions: ctx.options.maxSubscriptions, hint: 'unsubscribe first' });
  }
  const target = params['target'];
  const expires = params['expires'];
  const subscription = await ue.subscribe(String(params['event']), typeof target === 'string' ? target : undefined, typeof expires === 'number' ? expires : undefined);
  ctx.subscriptions.track(subscription);
  return { subscriptionId: subscription.id };
};

const unsubscribe: MethodHandler = async (params, ctx) => {
  const subscriptionId = String(params['subscriptionId']);
  const subscription = ctx.subscriptions.require(subscriptionId);
  ctx.subscriptions.forget(subscriptionId);
  try {
    await subscription.unsubscribe();
  } catch (error) {
    // The subscription is gone from this session either way; a refused un-SUBSCRIBE (481: the
    // notifier already forgot it) is not the client's problem.
    if (!(error instanceof EpcError)) throw error;
  }
  return {};
};

let openRpcDocument: Record<string, unknown> | undefined;

const discover: MethodHandler = () => {
  openRpcDocument ??= readRepositoryJson('openrpc.json');
  return openRpcDocument;
};

export const MESSAGING_METHODS: Readonly<Record<string, MethodHandler>> = {
  'message.send': send,
  'subscription.subscribe': subscribe,
  'subscription.unsubscribe': unsubscribe,
  'rpc.discover': discover,
};
