import { createServer } from 'node:http';
import { Channel, ChannelSettings, defineTool, listen, parsePort, readBody, resolveStateDir, runUntilStdinCloses } from '@openchannels/kit';
import { z } from 'zod';

const stateDir = resolveStateDir('webhook');
const channel = new Channel({
  name: 'webhook',
  instructions: 'Events arrive as <channel source="webhook" chat_id="..."> tags. Answer with the reply tool, passing chat_id back. '.repeat(2),
  tools: [defineTool({ name: 'reply', description: 'reply', input: z.object({ chat_id: z.string(), text: z.string() }), run: () => 'sent' })],
});
const settings = new ChannelSettings(stateDir, process.env, channel.log);
const port = parsePort(settings.get('WEBHOOK_PORT'), 8788, 'WEBHOOK_PORT');
const http = createServer(async (req, res) => {
  const body = await readBody(req, 1 << 20);
  await channel.emit(body.toString('utf8'), { chat_id: 'c1', path: req.url, method: req.method });
  res.end('ok\n');
});
const actual = await listen(http, { port, host: '127.0.0.1', portVariable: 'WEBHOOK_PORT' });
channel.log(`listening on http://127.0.0.1:${actual}`);
await channel.connect();
runUntilStdinCloses({ log: channel.log, cleanup: () => new Promise<void>((r) => http.close(() => r())) });
