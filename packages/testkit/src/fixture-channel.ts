/**
 * A scripted channel server for testing hosts: its tools make it do what a platform would
 * (`emit` an event, answer a permission request with `verdict`), and it records what it was
 * asked (`reply`, permission requests) so a test can read it back with `recorded`.
 *
 * Run as `node fixture-channel.js [name]`; FIXTURE_NO_PERMISSION=1 leaves out the permission relay;
 * FIXTURE_AUTO_VERDICT=allow:300 answers every permission request that way after 300 ms, as a
 * remote user would; FIXTURE_EMIT_AFTER=300:{"content":...,"meta":...} emits that event 300 ms
 * after start, as if it arrived from the platform.
 */
import { Channel, type PermissionRequest, defineTool, runUntilStdinCloses } from '@openchannels/kit';
import { z } from 'zod';

const name = process.argv[2] ?? 'fixture';
const record: Array<{ kind: string; [key: string]: unknown }> = [];
const relay = process.env.FIXTURE_NO_PERMISSION !== '1';
const [autoBehavior, autoDelay] = (process.env.FIXTURE_AUTO_VERDICT ?? '').split(':');

const channel: Channel = new Channel({
  name,
  instructions: [
    `Events from the ${name} test channel arrive as <channel source="${name}" chat_id="...">.`,
    'Answer with the reply tool, passing chat_id back. This channel exists to test hosts: its',
    'emit and verdict tools make it act as a remote platform would.',
  ].join(' '),
  tools: [
    defineTool({
      name: 'reply',
      description: 'Send a message to the chat',
      input: z.object({ chat_id: z.string(), text: z.string() }),
      run: ({ chat_id, text }) => {
        record.push({ kind: 'reply', chat_id, text });
        return `sent (id: r${record.length})`;
      },
    }),
    defineTool({
      name: 'emit',
      description: 'Push events into the session, as if they arrived from the platform',
      input: z.object({
        content: z.string(),
        meta: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
        count: z.number().int().min(1).max(100_000).optional(),
      }),
      run: async ({ content, meta, count = 1 }) => {
        for (let i = 0; i < count; i++) {
          await channel.emit(count > 1 ? `${content} ${i + 1}` : content, meta);
        }
        return `emitted ${count}`;
      },
    }),
    defineTool({
      name: 'verdict',
      description: 'Answer a permission request, as the remote user would',
      input: z.object({ request_id: z.string(), behavior: z.enum(['allow', 'deny']) }),
      run: async ({ request_id, behavior }) => {
        await channel.sendVerdict(request_id, behavior);
        return 'sent';
      },
    }),
    defineTool({
      name: 'recorded',
      description: 'What this channel was asked to do so far, as JSON',
      input: z.object({}),
      run: () => JSON.stringify(record),
    }),
  ],
  onPermissionRequest: relay
    ? (request: PermissionRequest) => {
        record.push({ kind: 'permission_request', ...request });
        if (autoBehavior === 'allow' || autoBehavior === 'deny') {
          setTimeout(() => void channel.sendVerdict(request.request_id, autoBehavior), Number(autoDelay) || 0);
        }
      }
    : undefined,
});

await channel.connect();
const scheduled = /^(\d+):(.*)$/s.exec(process.env.FIXTURE_EMIT_AFTER ?? '');
if (scheduled) {
  const event = JSON.parse(scheduled[2]!) as { content: string; meta?: Record<string, string> };
  setTimeout(() => void channel.emit(event.content, event.meta), Number(scheduled[1]));
}
runUntilStdinCloses({ log: channel.log, cleanup: () => channel.close() });
