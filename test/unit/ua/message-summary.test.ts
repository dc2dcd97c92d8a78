import t from 'tap';
import { parseMessageSummary } from '../../../core/ua/message-summary.js';

t.test('RFC 3842 §5.2: Messages-Waiting, Message-Account and per-class new/old (urgent) counts', async (t) => {
  const summary = parseMessageSummary('Messages-Waiting: yes\r\nMessage-Account: sip:alice@vm.ims.test\r\nVoice-Message: 2/8 (0/2)\r\nFax-Message: 1/0\r\n');
  t.same(summary, {
    messagesWaiting: true, account: 'sip:alice@vm.ims.test', new: 3, old: 8,
    classes: { voice: { new: 2, old: 8, urgentNew: 0, urgentOld: 2 }, fax: { new: 1, old: 0 } },
  });
});

t.test('RFC 3842 §5.2: "no" waiting, unknown lines and malformed counts are ignored; no Messages-Waiting is no summary', async (t) => {
  t.same(parseMessageSummary('Messages-Waiting: no\nVoice-Message: x/y\nFoo: bar\n'), { messagesWaiting: false, classes: {}, new: 0, old: 0 });
  t.equal(parseMessageSummary('Voice-Message: 2/8\r\n'), undefined);
  t.equal(parseMessageSummary(''), undefined);
});
