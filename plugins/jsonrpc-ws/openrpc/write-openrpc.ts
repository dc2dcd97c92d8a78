/**
 * Regenerates schemas/openrpc.json from schemas/jsonrpc:
 *   node --import tsx plugins/jsonrpc-ws/openrpc/write-openrpc.ts
 * (test/unit/plugins/jsonrpc-ws/openrpc.test.ts fails while the file is stale).
 */
import { writeFileSync } from 'node:fs';
import { loadApiCatalogue } from '../api-catalogue.js';
import { buildOpenRpc } from './build-openrpc.js';

export function openRpcFileText(): string {
  return `${JSON.stringify(buildOpenRpc(loadApiCatalogue()), null, 2)}\n`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const target = new URL('../../../schemas/openrpc.json', import.meta.url);
  writeFileSync(target, openRpcFileText());
  process.stdout.write(`wrote ${target.pathname}\n`);
}
