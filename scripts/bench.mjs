// `npm run bench`: builds if needed, then runs every benchmark; arguments pass through (--quick).
import { join } from 'node:path';
import { build, ensureInstalled, root, run } from './setup.mjs';

ensureInstalled();
build();
run(process.execPath, [join(root, 'bench/dist/src/run.js'), ...process.argv.slice(2)]);
