// XEP-0198 §4 counting: h counts stanzas only, wraps at 2^32, <a h/> drops what was handled and an
// h beyond what was sent is refused; the queue reports when it is over its bound.
import t from 'tap';
import { isStanza, parseH, StreamManagement } from '../../../../plugins/xmpp-ws/sm/stream-management.js';
import { xmlElement } from '../../../../plugins/xmpp-ws/xml/element.js';
import { NS } from '../../../../plugins/xmpp-ws/xml/namespaces.js';

t.test('XEP-0198 §4: message, presence and iq count; nonzas do not', async (t) => {
  t.ok(isStanza(xmlElement('message', NS.client)));
  t.ok(isStanza(xmlElement('iq', NS.client)));
  t.notOk(isStanza(xmlElement('enabled', NS.sm)));
  t.notOk(isStanza(xmlElement('success', NS.sasl)));
});

t.test('XEP-0198 §4: h is an unsigned 32-bit integer', async (t) => {
  t.equal(parseH('0'), 0);
  t.equal(parseH('4294967295'), 4294967295);
  t.equal(parseH('4294967296'), undefined);
  t.equal(parseH('-1'), undefined);
  t.equal(parseH('1e3'), undefined);
  t.equal(parseH(undefined), undefined);
});

t.test('XEP-0198 §4-5: <a h/> drops the handled stanzas; the rest is re-sent on resumption; an h beyond what was sent is refused', async (t) => {
  const sm = new StreamManagement(3);
  t.ok(sm.sent('s1'));
  t.ok(sm.sent('s2'));
  t.ok(sm.sent('s3'));
  t.ok(sm.acknowledge(1));
  t.same(sm.pending(), ['s2', 's3']);
  t.notOk(sm.acknowledge(5), 'h=5 when 3 were sent');
  t.same(sm.pending(), ['s2', 's3'], 'a refused ack changes nothing');
  t.ok(sm.sent('s4'));
  t.notOk(sm.sent('s5'), 'beyond the bound the queue reports it is full');
  t.ok(sm.acknowledge(5));
  t.equal(sm.unacknowledged, 0);
  sm.received();
  sm.received();
  t.equal(sm.ackElement().attrs.h, '2', 'our <a h/> counts what the client sent');
});
