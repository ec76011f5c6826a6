/**
 * Discord against the fake Discord (REST and a WebSocket gateway on loopback): a gateway dispatch →
 * the notification at the host, `reply` → POST /channels/:id/messages at the fake, a 100,000-character
 * reply, a burst of 1,000 DMs, and the idle memory of one shared gateway connection with two sessions
 * attached.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ChannelConnection, readPluginServers } from '@openchannels/host';
import type { ChannelEvent } from '@openchannels/kit';
import { FakeDiscord, repoRoot, tempStateDir } from '@openchannels/testkit';
import { fixed, percentile, printTable, residentMb, sleep } from './stats.js';

const ALICE = '200000000000000111';
const CREATE_MESSAGE = 'POST /channels/:id/messages';

async function session(dc: FakeDiscord, stateDir: string, project: string, onEvent: (e: ChannelEvent) => void) {
  const [spec] = readPluginServers(join(repoRoot, 'channels/discord'));
  return ChannelConnection.start(
    {
      ...spec!,
      env: {
        DISCORD_BOT_TOKEN: dc.token,
        DISCORD_API_ROOT: dc.apiRoot,
        DISCORD_STATE_DIR: stateDir,
        CLAUDE_PROJECT_DIR: `/projects/${project}`,
      },
    },
    { onEvent },
  );
}

export async function benchDiscord(probes: number): Promise<void> {
  const dc = await FakeDiscord.start({ username: 'bench-bot' });
  const alice = dc.user(ALICE, 'alice');
  const aliceDm = dc.dmChannel(alice);
  const stateDir = tempStateDir('bench-discord-');
  writeFileSync(join(stateDir, 'access.json'), JSON.stringify({ dmPolicy: 'allowlist', allowFrom: [ALICE], groups: {}, pending: {} }));
  let waiting: ((event: ChannelEvent) => void) | undefined;
  const events: string[] = [];
  const leader = await session(dc, stateDir, 'api', (event) => {
    events.push(event.content);
    waiting?.(event);
  });
  const next = (content: string) =>
    new Promise<number>((resolve) => {
      waiting = (event) => {
        if (event.content === content) resolve(performance.now());
      };
    });

  // A MESSAGE_CREATE dispatched on the gateway → the event at the host.
  await dc.connected();
  await sleep(1000);
  const leaderStartMb = await residentMb(leader.pid!);
  const inbound: number[] = [];
  for (let i = 0; i < probes + 20; i++) {
    const content = `probe ${i}`;
    const arrived = next(content);
    const sentAt = performance.now();
    dc.dm(alice, content);
    const at = await arrived;
    if (i >= 20) inbound.push(at - sentAt);
  }

  // reply → the message POST at the fake (recorded as soon as the fake has answered it).
  const outbound: number[] = [];
  for (let i = 0; i < probes + 20; i++) {
    const text = `answer ${i}`;
    const seen = dc.calls
      .next((call) => call.route === CREATE_MESSAGE && call.body.content === text, 5000)
      .then(() => performance.now());
    const sentAt = performance.now();
    await leader.callTool('reply', { chat_id: aliceDm.id, text });
    const at = await seen;
    if (i >= 20) outbound.push(at - sentAt);
  }

  // A 100,000-character reply: chunked, sent in order.
  const long = Array.from({ length: 100_000 }, (_, i) => String.fromCharCode(97 + (i % 26))).join('');
  const before = dc.callsTo(CREATE_MESSAGE).length;
  const longStarted = performance.now();
  await leader.callTool('reply', { chat_id: aliceDm.id, text: long });
  const longMs = performance.now() - longStarted;
  const parts = dc.callsTo(CREATE_MESSAGE).slice(before).map((call) => String(call.body.content));
  const inOrder = parts.join('') === long;

  // 1,000 DMs at once.
  events.length = 0;
  const burstStarted = performance.now();
  for (let i = 0; i < 1000; i++) dc.dm(alice, `burst ${i}`);
  while (events.length < 1000 && performance.now() - burstStarted < 60_000) await sleep(5);
  const burstMs = performance.now() - burstStarted;
  const burstInOrder = events.every((content, i) => content === `burst ${i}`);

  // Idle memory: the leader (holding the gateway connection) and a second session attached to it.
  const member = await session(dc, stateDir, 'web', () => {});
  await sleep(1500);
  const leaderMb = await residentMb(leader.pid!);
  const memberMb = await residentMb(member.pid!);
  await member.close();
  await leader.close();
  await dc.close();

  printTable(
    `Discord against the fake Discord (${probes} probes each way)`,
    ['dispatch → notification p50 ms', 'p99 ms', 'reply → POST message p50 ms', 'p99 ms'],
    [[fixed(percentile(inbound, 50), 2), fixed(percentile(inbound, 99), 2), fixed(percentile(outbound, 50), 2), fixed(percentile(outbound, 99), 2)]],
  );
  printTable(
    'Discord: large reply, burst, memory',
    ['100k-char reply', 'burst of 1,000 DMs', 'RSS MB: gateway session idle at start', 'after all this: gateway + second session'],
    [[
      `${parts.length} parts in ${fixed(longMs, 0)} ms, ${inOrder ? 'in order' : 'OUT OF ORDER'}`,
      `${events.length} delivered in ${fixed(burstMs, 0)} ms, ${burstInOrder && events.length === 1000 ? 'in order, none lost' : 'LOST OR REORDERED'}`,
      fixed(leaderStartMb),
      `${fixed(leaderMb)} + ${fixed(memberMb)} = ${fixed(leaderMb + memberMb)}`,
    ]],
  );
}
