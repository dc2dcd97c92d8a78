import t from 'tap';
import { resolveConfig } from '../../../core/config/index.js';

const noEnv = { configDir: '/', env: {} };

t.test('TS 24.605 §4.2.1: mmtel.conferenceFactoryUri defaults to sip:mmtel@conf-factory.<mw.domain> (TS 23.003 §13.10)', async (t) => {
  t.equal(resolveConfig(null, noEnv).mmtel.conferenceFactoryUri, 'sip:mmtel@conf-factory.ims.test');
  t.equal(resolveConfig({ mw: { domain: 'ims.example.net' } }, noEnv).mmtel.conferenceFactoryUri, 'sip:mmtel@conf-factory.ims.example.net');
  t.equal(resolveConfig({ mmtel: { conferenceFactoryUri: 'sip:conf@as.ims.test' } }, noEnv).mmtel.conferenceFactoryUri, 'sip:conf@as.ims.test', 'a configured one wins');
});

t.test('mmtel.conferenceFactoryUri must be a SIP URI', async (t) => {
  t.throws(() => resolveConfig({ mmtel: { conferenceFactoryUri: 'http://conf' } }, noEnv), { code: 'EPC_ERR_CONFIG_INVALID', message: /mmtel\.conferenceFactoryUri/ });
  t.throws(() => resolveConfig({ mmtel: { conferenceFactoryUri: 'sip:' } }, noEnv), { code: 'EPC_ERR_CONFIG_INVALID', message: /mmtel\.conferenceFactoryUri/ });
});
