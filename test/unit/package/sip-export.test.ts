// Issue #2: `import { parseMessage, serializeMessage, SipParseError } from 'epcscf/sip'` works from the
// repo root after `npm run build` (package self-reference through `exports`).
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));

t.test('npm run build, then epcscf/sip resolves to the compiled SIP stack', async (t) => {
  execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: root, stdio: 'pipe' });
  const script = `
    import { parseMessage, serializeMessage, SipParseError } from 'epcscf/sip';
    const m = parseMessage('OPTIONS sip:a@b SIP/2.0\\r\\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\\r\\nFrom: <sip:x@y>;tag=1\\r\\nTo: <sip:a@b>\\r\\nCall-ID: c\\r\\nCSeq: 1 OPTIONS\\r\\n\\r\\n');
    let status;
    try { parseMessage('OPTIONS sip:a@b SIP/7.0\\r\\n\\r\\n'); } catch (e) { status = e instanceof SipParseError ? e.status : 'other'; }
    console.log(JSON.stringify({ method: m.method, bytes: serializeMessage(m).length, status }));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
  const result = JSON.parse(out) as { method: string; bytes: number; status: number | string };
  t.equal(result.method, 'OPTIONS');
  t.ok(result.bytes > 100);
  t.equal(result.status, 400, 'SipParseError is the class the package exports');
});
