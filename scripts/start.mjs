// `npm start`: installs and builds if needed, then opens the channel console on fakechat
// (or on what follows `npm start --`, e.g. `npm start -- console webhook`).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { build, ensureInstalled, root } from './setup.mjs';

ensureInstalled();
build();
const args = process.argv.length > 2 ? process.argv.slice(2) : ['console', 'fakechat'];
const result = spawnSync(process.execPath, [join(root, 'packages/host/bin/openchannels.js'), ...args], {
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
