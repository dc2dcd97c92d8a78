// Ut document addressing (TS 24.623 §5.2.1, RFC 4825 §6): the only document a W2 client reaches
// is a simservs.xml under /simservs.ngn.etsi.org/users/<XUI>/; traversal in any spelling is refused.
import t from 'tap';
import { checkNodeSelector, parseSimservsPath, xcapPathOf } from '../../../core/ut/index.js';

const DOC = '/simservs.ngn.etsi.org/users/sip:alice@ims.test/simservs.xml';

t.test('TS 24.623 §5.2.1: the simservs document and a node inside it are addressed by the XUI (the IMPU)', async (t) => {
  t.same(parseSimservsPath(DOC), { ok: true, target: { xui: 'sip:alice@ims.test', node: undefined } });
  t.same(parseSimservsPath(`${DOC}/~~/simservs/communication-diversion`), { ok: true, target: { xui: 'sip:alice@ims.test', node: 'simservs/communication-diversion' } });
  t.same(parseSimservsPath('/simservs.ngn.etsi.org/users/sip%3Aalice%40ims.test/simservs.xml'), { ok: true, target: { xui: 'sip:alice@ims.test', node: undefined } }, 'a percent-encoded XUI is the same user');
  t.same(parseSimservsPath(`${DOC}/~~/simservs/communication-diversion/cp:ruleset/cp:rule%5B@id=%22cfu%22%5D`), {
    ok: true, target: { xui: 'sip:alice@ims.test', node: 'simservs/communication-diversion/cp:ruleset/cp:rule[@id="cfu"]' },
  }, 'RFC 4825 §6.3 predicates, decoded');
});

t.test('Ut policy: other application usages, the global tree and other documents are forbidden', async (t) => {
  for (const path of [
    '/pres-rules/users/sip:alice@ims.test/index',
    '/simservs.ngn.etsi.org/global/index',
    '/simservs.ngn.etsi.org/users/sip:alice@ims.test/other.xml',
    '/simservs.ngn.etsi.org/users/sip:alice@ims.test/',
    'simservs.ngn.etsi.org/users/sip:alice@ims.test/simservs.xml',
  ]) {
    const outcome = parseSimservsPath(path);
    t.equal(outcome.ok === false && outcome.forbidden, true, `forbidden: ${path}`);
  }
});

t.test('Ut policy: path traversal in every spelling is refused before the XCAP server sees it', async (t) => {
  for (const path of [
    '/simservs.ngn.etsi.org/users/../users/sip:bob@ims.test/simservs.xml',
    '/simservs.ngn.etsi.org/users/sip:alice@ims.test/../sip:bob@ims.test/simservs.xml',
    '/simservs.ngn.etsi.org/users/%2e%2e/simservs.xml',
    '/simservs.ngn.etsi.org/users/sip:alice@ims.test%2F..%2Fsip:bob@ims.test/simservs.xml',
    `${DOC}/~~/simservs/../../../sip:bob@ims.test/simservs.xml`,
    `${DOC}/~~/simservs/%2e%2e/x`,
    `${DOC}/~~/simservs//communication-diversion`,
    `${DOC}/~~/simservs\\communication-diversion`,
    `${DOC}?x=1`,
    `${DOC}#frag`,
    `${DOC}/~~/simservs/communication-diversion%0d%0aX-3GPP-Asserted-Identity:%20sip:bob@ims.test`,
  ]) {
    t.equal(parseSimservsPath(path).ok, false, `refused: ${path}`);
  }
  t.equal(checkNodeSelector('simservs/../communication-diversion').ok, false, 'a dot step in a node selector');
  t.equal(checkNodeSelector('/simservs').ok, false, 'a leading slash');
  t.equal(checkNodeSelector('other-root/x').ok, false, 'a node selector must start at simservs');
});

t.test('the XCAP request path: the XUI kept readable, predicates percent-encoded', async (t) => {
  t.equal(xcapPathOf({ xui: 'sip:+4930123@ims.test', node: undefined }), '/simservs.ngn.etsi.org/users/sip:+4930123@ims.test/simservs.xml');
  t.equal(xcapPathOf({ xui: 'sip:alice@ims.test', node: 'simservs/communication-diversion/cp:ruleset/cp:rule[@id="cfu"]' }),
    '/simservs.ngn.etsi.org/users/sip:alice@ims.test/simservs.xml/~~/simservs/communication-diversion/cp:ruleset/cp:rule%5B@id=%22cfu%22%5D');
});
