// The one test command (`npm test`): installs what is missing, builds, runs every test file
// with Node's test runner, and ends with a line `N passed, N failed`.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { build, ensureInstalled, root } from './setup.mjs';

ensureInstalled();
await import('./ensure-chromium.mjs');
build();

const filter = process.argv.slice(2);
const files = [];
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (name === 'node_modules') continue;
    if (statSync(path).isDirectory()) walk(path);
    else if (name.endsWith('.test.js')) files.push(path);
  }
};
for (const group of ['packages', 'channels']) {
  for (const name of readdirSync(join(root, group))) {
    const dist = join(root, group, name, 'dist');
    if (existsSync(dist)) walk(dist);
  }
}
const selected = files.filter((f) => filter.length === 0 || filter.some((part) => f.includes(part)));
if (selected.length === 0) {
  console.error('no test files found');
  process.exit(1);
}

const child = spawn(
  process.execPath,
  ['--test', '--test-reporter=tap', '--test-concurrency=2', '--test-timeout=180000', ...selected.map((f) => relative(root, f))],
  { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
);
let passed = 0;
let failed = 0;
let buffer = '';
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  buffer += chunk;
  let newline;
  while ((newline = buffer.indexOf('\n')) >= 0) {
    const line = buffer.slice(0, newline);
    buffer = buffer.slice(newline + 1);
    const pass = /^# pass (\d+)$/.exec(line);
    const fail = /^# fail (\d+)$/.exec(line);
    if (pass) passed = Number(pass[1]);
    if (fail) failed = Number(fail[1]);
  }
});
child.on('close', (code) => {
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(code === 0 && failed === 0 && passed > 0 ? 0 : 1);
});
