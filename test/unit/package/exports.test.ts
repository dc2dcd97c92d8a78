// Issue #2: `import { parseMessage, serializeMessage, SipParseError } from 'epcscf/sip'` works from the
// repo root after `npm run build` (package self-reference through `exports`).
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

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

// Issue #12 part 1: `epcscf/plugin` is the one door for plugin authors (core/contract/).
t.test('issue 12 #1: epcscf/plugin resolves to the contract, and the text-chat example compiles and loads against it', async (t) => {
  // The build of the test above produced dist/.
  const script = `
    import * as door from 'epcscf/plugin';
    console.log(JSON.stringify({
      contract: door.W2_CONTRACT_VERSION, define: typeof door.defineW2Plugin, flood: typeof door.FloodGuard,
      error: typeof door.EpcError, parse: typeof door.parseMessage, loader: 'loadPlugins' in door,
    }));`;
  const out = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' })) as Record<string, unknown>;
  t.same(out, { contract: 2, define: 'function', flood: 'function', error: 'function', parse: 'function', loader: false }, 'the contract and nothing of the loader');

  // A third party's copy of the example, importing the package by name (self-reference through exports).
  mkdirSync(join(root, '.tap'), { recursive: true });
  const dir = mkdtempSync(join(root, '.tap', 'plugin-sdk-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const example = readFileSync(join(root, 'examples', 'plugin-text-chat', 'index.ts'), 'utf8');
  const thirdParty = example.replace("'../../core/contract/index.js'", "'epcscf/plugin'");
  t.not(thirdParty, example, 'the example imports the contract index, which the package exports as epcscf/plugin');
  writeFileSync(join(dir, 'index.ts'), thirdParty);
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
    extends: relative(dir, join(root, 'tsconfig.json')),
    compilerOptions: { rootDir: '.', outDir: 'out', declaration: false, sourceMap: false },
    include: ['index.ts'],
  }));
  execFileSync('npx', ['tsc', '-p', join(dir, 'tsconfig.json')], { cwd: root, stdio: 'pipe' });
  const load = `
    import { EventEmitter } from 'node:events';
    import { pino } from 'pino';
    import { loadPlugins, unattachedSipApi } from './dist/core/plugin/index.js';
    const loaded = await loadPlugins([{ name: ${JSON.stringify(pathToFileURL(join(dir, 'out', 'index.js')).href)} }], {
      baseDir: '.', log: pino({ level: 'silent' }), sip: unattachedSipApi, observer: new EventEmitter(), maxFrameBytes: 65536,
    });
    console.log(JSON.stringify(loaded.routes.map((r) => [r.plugin.name, r.path, r.subprotocols])));`;
  const routes = execFileSync(process.execPath, ['--input-type=module', '-e', load], { cwd: root, encoding: 'utf8' });
  t.same(JSON.parse(routes), [['text-chat', '/chat', ['text-chat']]]);
});
