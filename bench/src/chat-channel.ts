/**
 * The benchmark every chat channel shared by sessions runs against its fake platform: a user's
 * message → the notification at the host, `reply` → the message arriving at the platform, a
 * 100,000-character reply, a burst of 1,000 messages, and the idle memory of the session holding
 * the platform connection with a second session attached. telegram.ts and discord.ts supply the
 * platform.
 */
import { join } from 'node:path';
import { ChannelConnection, readPluginServers } from '@openchannels/host';
import type { ChannelEvent } from '@openchannels/kit';
import { repoRoot, tempStateDir, writeAccessFile } from '@openchannels/testkit';
import { fixed, percentile, printTable, residentMb, sleep } from './stats.js';

/** A running fake platform with one user who writes to the bot, and how the tables name things. */
export interface ChatPlatform {
  /** The channel's folder under channels/ (and its name in the state directory's prefix). */
  channel: string;
  /** The session's environment pointing it at the fake, besides CLAUDE_PROJECT_DIR. */
  env(stateDir: string): Record<string, string>;
  /** The user's id as access.json's allowlist holds it. */
  userId: string;
  /** The `chat_id` the reply tool is given to answer that user. */
  chatId: string;
  /** The user sends the bot a message. */
  sendUserMessage(text: string): void;
  /** Resolves when the fake receives the bot's message with exactly this text. */
  outboundArrival(text: string): Promise<unknown>;
  /** The text of every message the bot has sent so far, oldest first. */
  sentTexts(): string[];
  /** Resolves once the first session's connection to the fake is open, for a fake that can tell (a gateway). */
  connected?(): Promise<void>;
  close(): Promise<void>;
  labels: {
    /** 'Telegram' */
    name: string;
    /** 'the fake Bot API' */
    fake: string;
    /** What brings a user's message to the bot: 'update'. */
    userMessageAs: string;
    /** What carries the bot's message to the platform: 'sendMessage'. */
    botMessageAs: string;
    /** What the burst is made of: 'messages'. */
    burstOf: string;
    /** How the first session holds the connection: 'polling'. */
    connection: string;
  };
}

const WARM_UPS = 20;
const BURST = 1000;

function startSession(platform: ChatPlatform, stateDir: string, project: string, onEvent: (event: ChannelEvent) => void) {
  const [spec] = readPluginServers(join(repoRoot, 'channels', platform.channel));
  return ChannelConnection.start(
    { ...spec!, env: { ...platform.env(stateDir), CLAUDE_PROJECT_DIR: `/projects/${project}` } },
    { onEvent },
  );
}

/** Runs the benchmark with `probes` measured messages each way, prints its two tables, and closes the platform. */
export async function benchChatChannel(probes: number, platform: ChatPlatform): Promise<void> {
  const stateDir = tempStateDir(`bench-${platform.channel}-`);
  writeAccessFile(stateDir, { dmPolicy: 'allowlist', allowFrom: [platform.userId], groups: {}, pending: {} });
  let waiting: ((event: ChannelEvent) => void) | undefined;
  const events: string[] = [];
  const leader = await startSession(platform, stateDir, 'api', (event) => {
    events.push(event.content);
    waiting?.(event);
  });
  const eventArrival = (content: string) =>
    new Promise<number>((resolve) => {
      waiting = (event) => {
        if (event.content === content) resolve(performance.now());
      };
    });

  // A user's message at the fake → the event at the host.
  await platform.connected?.();
  await sleep(1000);
  const leaderStartMb = await residentMb(leader.pid!);
  const inbound: number[] = [];
  for (let i = 0; i < probes + WARM_UPS; i++) {
    const content = `probe ${i}`;
    const arrived = eventArrival(content);
    const sentAt = performance.now();
    platform.sendUserMessage(content);
    const at = await arrived;
    if (i >= WARM_UPS) inbound.push(at - sentAt);
  }

  // reply → the message arriving at the fake.
  const outbound: number[] = [];
  for (let i = 0; i < probes + WARM_UPS; i++) {
    const text = `answer ${i}`;
    const arrived = platform.outboundArrival(text).then(() => performance.now());
    const sentAt = performance.now();
    await leader.callTool('reply', { chat_id: platform.chatId, text });
    const at = await arrived;
    if (i >= WARM_UPS) outbound.push(at - sentAt);
  }

  // A 100,000-character reply: chunked, sent in order.
  const long = Array.from({ length: 100_000 }, (_, i) => String.fromCharCode(97 + (i % 26))).join('');
  const before = platform.sentTexts().length;
  const longStarted = performance.now();
  await leader.callTool('reply', { chat_id: platform.chatId, text: long });
  const longMs = performance.now() - longStarted;
  const parts = platform.sentTexts().slice(before);
  const inOrder = parts.join('') === long;

  // 1,000 messages at once.
  events.length = 0;
  const burstStarted = performance.now();
  for (let i = 0; i < BURST; i++) platform.sendUserMessage(`burst ${i}`);
  while (events.length < BURST && performance.now() - burstStarted < 60_000) await sleep(5);
  const burstMs = performance.now() - burstStarted;
  const burstInOrder = events.every((content, i) => content === `burst ${i}`);

  // Idle memory: the leader (holding the connection) and a second session attached to it.
  const member = await startSession(platform, stateDir, 'web', () => {});
  await sleep(1500);
  const leaderMb = await residentMb(leader.pid!);
  const memberMb = await residentMb(member.pid!);
  await member.close();
  await leader.close();
  await platform.close();

  const { name, fake, userMessageAs, botMessageAs, burstOf, connection } = platform.labels;
  printTable(
    `${name} against ${fake} (${probes} probes each way)`,
    [`${userMessageAs} → notification p50 ms`, 'p99 ms', `reply → ${botMessageAs} p50 ms`, 'p99 ms'],
    [[fixed(percentile(inbound, 50), 2), fixed(percentile(inbound, 99), 2), fixed(percentile(outbound, 50), 2), fixed(percentile(outbound, 99), 2)]],
  );
  printTable(
    `${name}: large reply, burst, memory`,
    ['100k-char reply', `burst of 1,000 ${burstOf}`, `RSS MB: ${connection} session idle at start`, `after all this: ${connection} + second session`],
    [[
      `${parts.length} parts in ${fixed(longMs, 0)} ms, ${inOrder ? 'in order' : 'OUT OF ORDER'}`,
      `${events.length} delivered in ${fixed(burstMs, 0)} ms, ${burstInOrder && events.length === BURST ? 'in order, none lost' : 'LOST OR REORDERED'}`,
      fixed(leaderStartMb),
      `${fixed(leaderMb)} + ${fixed(memberMb)} = ${fixed(leaderMb + memberMb)}`,
    ]],
  );
}
