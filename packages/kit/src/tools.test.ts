import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { ToolRegistry, defineTool } from './tools.js';

const reply = defineTool({
  name: 'reply',
  description: 'Send a message',
  input: z.object({ chat_id: z.string(), text: z.string(), files: z.array(z.string()).optional() }),
  run: ({ chat_id, text }) => {
    if (chat_id === 'boom') throw new Error('chat boom is not allowlisted');
    if (chat_id === 'weird') throw 'a bare string';
    return `sent ${text.length} characters to ${chat_id}`;
  },
});

const registry = new ToolRegistry([reply]);

test('a valid call returns the handler text without isError', async () => {
  assert.deepEqual(await registry.call('reply', { chat_id: '1', text: 'hi' }), {
    content: [{ type: 'text', text: 'sent 2 characters to 1' }],
  });
});

test('an unknown tool is an isError result, not an exception', async () => {
  assert.deepEqual(await registry.call('x', {}), {
    content: [{ type: 'text', text: 'unknown tool: x' }],
    isError: true,
  });
});

test('missing or wrong-typed arguments name the field', async () => {
  const missing = await registry.call('reply', { chat_id: '1' });
  assert.equal(missing.isError, true);
  assert.match(missing.content[0]!.text, /^reply failed: invalid arguments: .*\btext\b/);

  const wrongType = await registry.call('reply', { chat_id: 1, text: 'hi' });
  assert.equal(wrongType.isError, true);
  assert.match(wrongType.content[0]!.text, /^reply failed: invalid arguments: chat_id\b/);

  const nested = await registry.call('reply', { chat_id: '1', text: 'hi', files: ['a', 2] });
  assert.match(nested.content[0]!.text, /^reply failed: invalid arguments: files\.1\b/);

  const none = await registry.call('reply', undefined);
  assert.equal(none.isError, true);
  assert.match(none.content[0]!.text, /^reply failed: invalid arguments: .*chat_id/);
});

test('a throwing handler becomes `<tool> failed: <message>`', async () => {
  assert.deepEqual(await registry.call('reply', { chat_id: 'boom', text: 'hi' }), {
    content: [{ type: 'text', text: 'reply failed: chat boom is not allowlisted' }],
    isError: true,
  });
  const thrownString = await registry.call('reply', { chat_id: 'weird', text: 'hi' });
  assert.equal(thrownString.content[0]!.text, 'reply failed: a bare string');
});

test('tools are listed with an object JSON Schema and cannot be defined twice', () => {
  const [listed] = registry.list();
  assert.equal(listed!.name, 'reply');
  assert.equal(listed!.inputSchema.type, 'object');
  assert.deepEqual(listed!.inputSchema.required, ['chat_id', 'text']);
  assert.equal('$schema' in listed!.inputSchema, false);
  assert.throws(() => registry.add(reply), /tool reply is defined twice/);
});
