/**
 * Telegram against the fake Bot API (real HTTP long polling): an update → the notification at the
 * host, `reply` → sendMessage at the fake, a 100,000-character reply, a burst of 1,000 messages,
 * and the idle memory of one shared bot connection with two sessions attached.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ChannelConnection, readPluginServers } from '@openchannels/host';
import type { ChannelEvent } from '@openchannels/kit';
import { FakeTelegram, repoRoot, tempStateDir } from '@openchannels/testkit';
import { fixed, percentile, printTable, residentMb, sleep } from './stats.js';

const ALICE = 111;

async function session(tg: FakeTelegram, stateDir: string, project: string, onEvent: (e: ChannelEvent) => void) {
  const [spec] = readPluginServers(join(repoRoot, 'channels/telegram'));
  return ChannelConnection.start(
    {
      ...spec!,
      env: {
        TELEGRAM_BOT_TOKEN: tg.token,
        TELEGRAM_API_ROOT: tg.apiRoot,
        TELEGRAM_STATE_DIR: stateDir,
        CLAUDE_PROJECT_DIR: `/projects/${project}`,
      },
    },
    { onEvent },
  );
}

export async function benchTelegram(probes: number): Promise<void> {
  const tg = await FakeTelegram.start({ username: 'bench_bot' });
  const alice = tg.user(ALICE, 'alice', 'Alice');
  tg.chatWith(alice);
  const stateDir = tempStateDir('bench-telegram-');
  writeFileSync(join(stateDir, 'access.json'), JSON.stringify({ dmPolicy: 'allowlist', allowFrom: [String(ALICE)], groups: {}, pending: {} }));
  let waiting: ((event: ChannelEvent) => void) | undefined;
  const events: string[] = [];
  const leader = await session(tg, stateDir, 'api', (event) => {
    events.push(event.content);
    waiting?.(event);
  });
  const next = (content: string) =>
    new Promise<number>((resolve) => {
      waiting = (event) => {
        if (event.content === content) resolve(performance.now());
      };
    });

  // An update at the fake → the event at the host (the poll is held open, as in production).
  await sleep(1000);
  const leaderStartMb = await residentMb(leader.pid!);
  const inbound: number[] = [];
  for (let i = 0; i < probes + 20; i++) {
    const content = `probe ${i}`;
    const arrived = next(content);
    const sentAt = performance.now();
    tg.dm(alice, content);
    const at = await arrived;
    if (i >= 20) inbound.push(at - sentAt);
  }

  // reply → sendMessage arriving at the fake.
  const outbound: number[] = [];
  for (let i = 0; i < probes + 20; i++) {
    const text = `answer ${i}`;
    const seen = tg.arrivals.next((call) => call.method === 'sendMessage' && call.params.text === text, 5000);
    const sentAt = performance.now();
    await leader.callTool('reply', { chat_id: String(ALICE), text });
    await seen;
    if (i >= 20) outbound.push(performance.now() - sentAt);
  }

  // A 100,000-character reply: chunked, sent in order.
  const long = Array.from({ length: 100_000 }, (_, i) => String.fromCharCode(97 + (i % 26))).join('');
  const before = tg.callsTo('sendMessage').length;
  const longStarted = performance.now();
  await leader.callTool('reply', { chat_id: String(ALICE), text: long });
  const longMs = performance.now() - longStarted;
  const parts = tg.callsTo('sendMessage').slice(before).map((call) => String(call.params.text));
  const inOrder = parts.join('') === long;

  // 1,000 messages at once.
  events.length = 0;
  const burstStarted = performance.now();
  for (let i = 0; i < 1000; i++) tg.dm(alice, `burst ${i}`);
  while (events.length < 1000 && performance.now() - burstStarted < 60_000) await sleep(5);
  const burstMs = performance.now() - burstStarted;
  const burstInOrder = events.every((content, i) => content === `burst ${i}`);

  // Idle memory: the leader (holding the connection) and a second session attached to it.
  const member = await session(tg, stateDir, 'web', () => {});
  await sleep(1500);
  const leaderMb = await residentMb(leader.pid!);
  const memberMb = await residentMb(member.pid!);
  await member.close();
  await leader.close();
  await tg.close();

  printTable(
    `Telegram against the fake Bot API (${probes} probes each way)`,
    ['update → notification p50 ms', 'p99 ms', 'reply → sendMessage p50 ms', 'p99 ms'],
    [[fixed(percentile(inbound, 50), 2), fixed(percentile(inbound, 99), 2), fixed(percentile(outbound, 50), 2), fixed(percentile(outbound, 99), 2)]],
  );
  printTable(
    'Telegram: large reply, burst, memory',
    ['100k-char reply', 'burst of 1,000 messages', 'RSS MB: polling session idle at start', 'after all this: polling + second session'],
    [[
      `${parts.length} parts in ${fixed(longMs, 0)} ms, ${inOrder ? 'in order' : 'OUT OF ORDER'}`,
      `${events.length} delivered in ${fixed(burstMs, 0)} ms, ${burstInOrder && events.length === 1000 ? 'in order, none lost' : 'LOST OR REORDERED'}`,
      fixed(leaderStartMb),
      `${fixed(leaderMb)} + ${fixed(memberMb)} = ${fixed(leaderMb + memberMb)}`,
    ]],
  );
}
