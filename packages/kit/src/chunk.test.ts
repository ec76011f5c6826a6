import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chunkText, effectiveChunkLimit } from './chunk.js';

test('text within the limit is one chunk; an empty text is one empty chunk', () => {
  assert.deepEqual(chunkText('hello', 5), ['hello']);
  assert.deepEqual(chunkText('', 10), ['']);
  assert.deepEqual(chunkText('', 10, 'newline'), ['']);
});

test('length mode cuts at exactly the limit', () => {
  assert.deepEqual(chunkText('abcdefghij', 4), ['abcd', 'efgh', 'ij']);
  assert.deepEqual(chunkText('one two three', 5, 'length'), ['one t', 'wo th', 'ree']);
});

test('newline mode prefers a blank line past half the limit', () => {
  const text = 'aaaa\nbbbbbb\n\ncc\ndddddddd';
  // Window of 16: the blank line at 11 is past half (8) and wins over the later newline at 15.
  assert.deepEqual(chunkText(text, 16, 'newline'), ['aaaa\nbbbbbb', 'cc\ndddddddd']);
});

test('newline mode falls back to a line break when the blank line is in the first half', () => {
  const text = 'ab\n\ncdefgh\nijklmnopqrstu';
  // The blank line at 2 is before half of 14; the newline at 10 is past it.
  assert.deepEqual(chunkText(text, 14, 'newline'), ['ab\n\ncdefgh', 'ijklmnopqrstu']);
});

test('newline mode falls back to a space, then to a hard cut', () => {
  assert.deepEqual(chunkText('alpha beta gamma', 12, 'newline'), ['alpha beta', ' gamma']);
  assert.deepEqual(chunkText('abcdefghij', 4, 'newline'), ['abcd', 'efgh', 'ij']);
});

test('line breaks that would begin the next chunk are dropped, spaces are kept', () => {
  assert.deepEqual(chunkText('abcd\n\n\nefgh', 4), ['abcd', 'efgh']);
  assert.deepEqual(chunkText('abcd  efgh', 4), ['abcd', '  ef', 'gh']);
});

test('no chunk is ever longer than the limit', () => {
  const separator = (i: number) => (i % 7 === 0 ? '\n\n' : i % 3 === 0 ? '\n' : ' ');
  const text = Array.from({ length: 200 }, (_, i) => `word${i}${separator(i)}`).join('');
  for (const mode of ['length', 'newline'] as const) {
    const chunks = chunkText(text, 50, mode);
    assert.ok(chunks.length > 1);
    assert.ok(chunks.every((chunk) => chunk.length <= 50), mode);
  }
});

test('the configured chunk limit is clamped to 1..platform maximum', () => {
  assert.equal(effectiveChunkLimit(undefined, 4096), 4096);
  assert.equal(effectiveChunkLimit(10_000, 4096), 4096);
  assert.equal(effectiveChunkLimit(0, 4096), 1);
  assert.equal(effectiveChunkLimit(-5, 2000), 1);
  assert.equal(effectiveChunkLimit(1500, 2000), 1500);
  assert.equal(effectiveChunkLimit(Number.NaN, 2000), 2000);
});
