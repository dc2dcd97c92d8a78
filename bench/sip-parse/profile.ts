import { parseMessage } from '../../core/sip/index.js';
import { register } from './messages.js';
const reg = register();
const t0 = Date.now(); let n = 0;
while (Date.now() - t0 < 3000) { for (let i = 0; i < 1000; i++) parseMessage(reg); n += 1000; }
console.log(n / 3);
