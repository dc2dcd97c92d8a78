/** The flags of `npm start` (examples/quickstart): ports for tests that run it beside others. */
import t from 'tap';
import { parseQuickstartFlags } from '../../../examples/quickstart/quickstart-options.js';

t.test('no flags: the WIC on 8080, W2 on 8081, Mw on 5060, the dev core on 5070 or the next free port', async (t) => {
  t.same(parseQuickstartFlags([]), { httpPort: 8080, w2Port: 8081, mwPort: 5060, devCorePort: undefined, help: false });
});

t.test('every port flag, as "--flag N" or "--flag=N"; 0 = any', async (t) => {
  t.same(parseQuickstartFlags(['--http-port', '0', '--w2-port=0', '--mw-port', '25060', '--dev-core-port=0']),
    { httpPort: 0, w2Port: 0, mwPort: 25060, devCorePort: 0, help: false });
  t.equal(parseQuickstartFlags(['-h']).help, true);
});

t.test('a bad port or an unknown flag is refused with a coded error that says why', async (t) => {
  t.throws(() => parseQuickstartFlags(['--w2-port', '70000']), { code: 'EPC_ERR_CONFIG_INVALID', message: '--w2-port: expected a port 0..65535 (got "70000")' });
  t.throws(() => parseQuickstartFlags(['--http-port']), { message: '--http-port: expected a port 0..65535 (got "")' });
  t.throws(() => parseQuickstartFlags(['--config', 'x.yaml']), { message: /^unknown argument "--config"\nusage: npm start/ });
});
