/**
 * RFC 3842 §5.2 application/simple-message-summary bodies (MWI, TS 24.606): whether messages
 * wait, the account, and per message class `new/old (urgent-new/urgent-old)` counts.
 *   Messages-Waiting: yes
 *   Message-Account: sip:alice@vm.ims.test
 *   Voice-Message: 2/8 (0/2)
 */
export interface MessageCounts {
  readonly new: number;
  readonly old: number;
  readonly urgentNew?: number;
  readonly urgentOld?: number;
}

export interface MessageSummary {
  readonly messagesWaiting: boolean;
  readonly account?: string;
  /** By RFC 3842 §5.2 message-context-class, lower case: voice, fax, pager, multimedia, text, none. */
  readonly classes: Readonly<Record<string, MessageCounts>>;
  /** Sum of new / old over all classes. */
  readonly new: number;
  readonly old: number;
}

const COUNTS = /^(\d+)\s*\/\s*(\d+)(?:\s*\(\s*(\d+)\s*\/\s*(\d+)\s*\))?\s*$/;
const CLASS_HEADER = /^([A-Za-z]+)-Message$/;

/** Parses the body; undefined when it has no Messages-Waiting line (RFC 3842 §5.2: mandatory). */
export function parseMessageSummary(body: string): MessageSummary | undefined {
  let waiting: boolean | undefined;
  let account: string | undefined;
  const classes: Record<string, MessageCounts> = {};
  let totalNew = 0;
  let totalOld = 0;
  for (const line of body.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (/^messages-waiting$/i.test(name)) { waiting = /^yes$/i.test(value); continue; }
    if (/^message-account$/i.test(name)) { account = value; continue; }
    const klass = CLASS_HEADER.exec(name)?.[1]?.toLowerCase();
    const counts = COUNTS.exec(value);
    if (klass === undefined || counts === null || Object.hasOwn(classes, klass)) continue;
    const entry: MessageCounts = {
      new: Number(counts[1]), old: Number(counts[2]),
      ...(counts[3] !== undefined ? { urgentNew: Number(counts[3]), urgentOld: Number(counts[4]) } : {}),
    };
    classes[klass] = entry;
    totalNew += entry.new;
    totalOld += entry.old;
  }
  if (waiting === undefined) return undefined;
  return { messagesWaiting: waiting, ...(account !== undefined ? { account } : {}), classes, new: totalNew, old: totalOld };
}
