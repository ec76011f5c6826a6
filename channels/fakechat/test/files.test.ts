import assert from 'node:assert/strict';
import { test } from 'node:test';
import { attachmentDisposition, contentTypeFor, safeFileName } from '../src/files.js';

test('upload names keep their readable part and lose paths, control characters and markup', () => {
  assert.equal(safeFileName('report.pdf'), 'report.pdf');
  assert.equal(safeFileName('C:\\Users\\me\\résumé 2024.docx'), 'résumé 2024.docx');
  assert.equal(safeFileName('../../etc/passwd'), 'passwd');
  assert.equal(safeFileName('...hidden'), 'hidden');
  assert.equal(safeFileName('a\nb\tc\u0000d.txt'), 'abcd.txt');
  assert.equal(safeFileName('photo\u202Egnp.exe'), 'photognp.exe', 'no right-to-left override to disguise .exe');
  assert.equal(safeFileName('<script>;x[1].txt'), '_script__x_1_.txt');
  assert.equal(safeFileName('..'), 'file');
  assert.equal(safeFileName(''), 'file');
});

test('a long upload name is shortened to 100 characters, keeping its extension', () => {
  const name = safeFileName(`${'ü'.repeat(300)}.jpeg`);
  assert.equal(Array.from(name).length, 100);
  assert.match(name, /^ü+\.jpeg$/);
});

test('downloads carry their name for every browser and never render as HTML', () => {
  assert.equal(attachmentDisposition('plot.png'), `attachment; filename="plot.png"; filename*=UTF-8''plot.png`);
  assert.equal(
    attachmentDisposition('résumé "final".pdf'),
    `attachment; filename="r_sum_ _final_.pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%22final%22.pdf`,
  );
  assert.equal(contentTypeFor('x.PNG'), 'image/png');
  assert.equal(contentTypeFor('page.html'), 'application/octet-stream');
});
