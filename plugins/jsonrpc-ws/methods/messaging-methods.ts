/**
 * message.send (MESSAGE, RFC 3428), subscription.subscribe / unsubscribe (reg RFC 3680,
 * message-summary RFC 3842) and rpc.discover (the OpenRPC document).
 */
import { EpcError } from '../../../core/contract/index.js';
import { readRepositoryJson } from '../api-catalogue.js';
import type { MethodHandler } from '../dispatcher.js';
import { RATE_LIMITED, rpcError } from '../rpc-errors.js';
import { checkBodyType, targetText } from '../../../core/contract/index.js';
import { checkedField, registeredUe } from './guards.js';

const send: MethodHandler = async (params, ctx) => {
  const ue = registeredUe(ctx);
  const to = checkedField('to', () => targetText(params['to'], 'to'));
  const contentType = params['contentType'];
  const type = contentType === undefined ? undefined : checkedField('contentType', () => checkBodyType(contentType, 'contentType'));
  const outcome = await ue.message(to, String(params['body']), type);
  return { accepted: outcome.status >= 200 && outcome.status < 300, sipStatus: outcome.status, reason: outcome.reason };
};

const subscribe: MethodHandler = async (params, ctx) => {
  const ue = registeredUe(ctx);
  if (ctx.subscriptions.size >= ctx.options.maxSubscriptions) {
    throw rpcError(RATE_LIMITED, { limit: 'maxSubscriptions', maxSubscriptions: ctx.options.maxSubscriptions, hint: 'unsubscribe first' });
  }
  const target = params['target'] === undefined ? undefined : checkedField('target', () => targetText(params['target'], 'target'));
  const expires = params['expires'];
  const subscription = await ue.subscribe(String(params['event']), target, typeof expires === 'number' ? expires : undefined);
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
