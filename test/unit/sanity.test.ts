import t from 'tap';
import { EpcError } from '../../core/errors.js';

t.test('EpcError carries its code and the table message', async (t) => {
  const e = new EpcError('EPC_ERR_SIP_TIMEOUT');
  t.equal(e.code, 'EPC_ERR_SIP_TIMEOUT');
  t.equal(e.message, 'SIP transaction timed out');
});
