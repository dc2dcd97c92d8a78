#!/usr/bin/env node
// pretest: make sure the Debian packages of the real peers are installed. As root it installs
// what is missing with apt-get; otherwise it prints the exact command and stops (exit 1).
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const { packages } = JSON.parse(readFileSync(new URL('./peers.json', import.meta.url), 'utf8'));

function installed(pkg) {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes('install ok installed');
}

const missing = packages.filter((p) => !installed(p));
if (missing.length === 0) process.exit(0);

const install = ['apt-get', '-o', 'DPkg::Lock::Timeout=600', 'install', '-y', '-q', '--no-install-recommends', ...missing];
if (process.getuid?.() !== 0) {
  console.error(`The tests need these Debian packages: ${missing.join(' ')}\nInstall them with:\n  sudo apt-get update && sudo ${install.join(' ')}`);
  process.exit(1);
}
console.error(`installing test peers: ${missing.join(' ')}`);
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
execFileSync('apt-get', ['update', '-q'], { stdio: 'inherit', env });
execFileSync(install[0], install.slice(1), { stdio: 'inherit', env });
