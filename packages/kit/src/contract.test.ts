import assert from 'node:assert/strict';
import { test } from 'node:test';
import { REQUEST_ID_PATTERN, inputPreview, isUsableMetaKey, parseVerdict } from './contract.js';

test('a verdict is read whatever the case and surrounding whitespace; the id is lowercased', () => {
  assert.deepEqual(parseVerdict('  YES ABCDE  '), { request_id: 'abcde', behavior: 'allow' });
  assert.deepEqual(parseVerdict('y\tqwert'), { request_id: 'qwert', behavior: 'allow' });
  assert.deepEqual(parseVerdict('n qwert'), { request_id: 'qwert', behavior: 'deny' });
  assert.deepEqual(parseVerdict('No   zzzzz\n'), { request_id: 'zzzzz', behavior: 'deny' });
});

test('ordinary chat is not a verdict', () => {
  const chat = ['yes abcde please', 'yes', 'yes abcdl', 'yes abcd', 'yes abcdef', 'ok abcde', 'sure, yes abcde', 'yesabcde'];
  for (const text of chat) {
    assert.equal(parseVerdict(text), null, text);
  }
});

test('request ids are five letters without l', () => {
  assert.match('abcde', REQUEST_ID_PATTERN);
  assert.doesNotMatch('abcle', REQUEST_ID_PATTERN);
  assert.doesNotMatch('abcd', REQUEST_ID_PATTERN);
});

test('meta keys must be identifiers other than source', () => {
  assert.equal(isUsableMetaKey('chat_id'), true);
  assert.equal(isUsableMetaKey('_private2'), true);
  for (const key of ['source', '1abc', 'a-b', 'a b', '']) assert.equal(isUsableMetaKey(key), false, key);
});

test('an input preview is the JSON cut to 200 characters with an ellipsis', () => {
  assert.equal(inputPreview({ command: 'ls' }), '{"command":"ls"}');
  const long = inputPreview({ text: 'x'.repeat(300) });
  assert.equal(long.length, 201);
  assert.ok(long.endsWith('…'));
  assert.equal(inputPreview(undefined), '');
});
