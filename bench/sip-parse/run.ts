// bench/sip-parse: messages per second for parse and serialize on one core (issue #2).
// Usage: npm run bench:sip-parse [-- --seconds 3]
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { parseMessage, serializeMessage, type SipMessage } from '../../core/sip/index.js';
import { browserInvite, register } from './messages.js';

const seconds = Number(process.argv[process.argv.indexOf('--seconds') + 1]) || 3;

function measure(label: string, fn: () => unknown): { label: string; opsPerSecond: number; microsPerOp: number } {
  for (let i = 0; i < 20000; i++) fn(); // warm up the JIT
  let ops = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(seconds * 1e9));
  let now = start;
  while (now < deadline) {
    for (let i = 0; i < 1000; i++) fn();
    ops += 1000;
    now = process.hrtime.bigint();
  }
  const elapsed = Number(now - start) / 1e9;
  const result = { label, opsPerSecond: Math.round(ops / elapsed), microsPerOp: Number(((elapsed / ops) * 1e6).toFixed(2)) };
  console.log(`${label.padEnd(34)} ${result.opsPerSecond.toLocaleString('en-US').padStart(10)} msg/s  ${result.microsPerOp} µs/msg`);
  return result;
}

const inv = browserInvite();
const reg = register();
const invMsg: SipMessage = parseMessage(inv);
const regMsg: SipMessage = parseMessage(reg);
console.log(`bench/sip-parse on ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}; INVITE ${inv.length} B, REGISTER ${reg.length} B`);
const results = [
  measure('parse REGISTER', () => parseMessage(reg)),
  measure('parse browser INVITE (SDP body)', () => parseMessage(inv)),
  measure('serialize REGISTER', () => serializeMessage(regMsg)),
  measure('serialize browser INVITE', () => serializeMessage(invMsg)),
];
const target = 100_000;
const reached = results[0]!.opsPerSecond;
console.log(`target >= ${target.toLocaleString('en-US')} REGISTER parses/s on one core: ${reached >= target ? 'met' : 'NOT met'} (${reached.toLocaleString('en-US')})`);
mkdirSync(new URL('../results/', import.meta.url), { recursive: true });
writeFileSync(new URL('../results/sip-parse.json', import.meta.url), JSON.stringify({
  bench: 'sip-parse', date: new Date().toISOString(), node: process.version, cpu: cpus()[0]?.model, cores: cpus().length,
  seconds, messageBytes: { invite: inv.length, register: reg.length }, results,
}, null, 2) + '\n');
