import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { checkOutboundFile } from './files.js';

/** A state directory with secrets and an inbox, beside an unrelated directory. */
function layout(t: TestContext) {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'openchannels-files-')));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const state = join(root, 'state');
  const outside = join(root, 'work');
  mkdirSync(join(state, 'inbox'), { recursive: true });
  mkdirSync(outside);
  writeFileSync(join(state, '.env'), 'TOKEN=secret\n');
  writeFileSync(join(state, 'access.json'), '{}\n');
  writeFileSync(join(state, 'inbox', 'photo.jpg'), 'jpeg bytes');
  writeFileSync(join(outside, 'report.txt'), 'hello');
  return { state, outside };
}

test('channel state is refused however the path is spelled', (t) => {
  const { state, outside } = layout(t);
  for (const path of [join(state, '.env'), join(state, 'access.json'), `${state}/inbox/../.env`, `${state}/`]) {
    assert.throws(() => checkOutboundFile(path, state, 1000), { message: `refusing to send channel state: ${path}` });
  }
  const link = join(outside, 'innocent.txt');
  symlinkSync(join(state, '.env'), link);
  assert.throws(() => checkOutboundFile(link, state, 1000), /refusing to send channel state/);
  const planted = join(state, 'inbox', 'planted.txt');
  symlinkSync(join(state, 'access.json'), planted);
  assert.throws(() => checkOutboundFile(planted, state, 1000), /refusing to send channel state/);
});

test('a symlinked state directory does not hide its files', (t) => {
  const { state, outside } = layout(t);
  const alias = join(outside, 'state-alias');
  symlinkSync(state, alias);
  assert.throws(() => checkOutboundFile(join(state, '.env'), alias, 1000), /refusing to send channel state/);
  assert.throws(() => checkOutboundFile(join(alias, 'access.json'), state, 1000), /refusing to send channel state/);
});

test('received attachments in the inbox and ordinary files may be sent', (t) => {
  const { state, outside } = layout(t);
  assert.deepEqual(checkOutboundFile(join(state, 'inbox', 'photo.jpg'), state, 1000), {
    path: join(state, 'inbox', 'photo.jpg'),
    name: 'photo.jpg',
    size: 10,
  });
  assert.equal(checkOutboundFile(join(outside, 'report.txt'), state, 1000).size, 5);
});

test('oversize, missing and non-regular files are refused with their reason', (t) => {
  const { state, outside } = layout(t);
  const report = join(outside, 'report.txt');
  assert.throws(() => checkOutboundFile(report, state, 4), {
    message: `file too large: ${report} (5 bytes, the limit is 4)`,
  });
  assert.doesNotThrow(() => checkOutboundFile(report, state, 5));
  const missing = join(outside, 'gone.txt');
  assert.throws(() => checkOutboundFile(missing, state, 1000), { message: `no such file: ${missing}` });
  assert.throws(() => checkOutboundFile(outside, state, 1000), { message: `not a regular file: ${outside}` });
});
