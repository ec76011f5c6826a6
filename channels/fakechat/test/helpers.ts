/** Starting fakechat under a fake host, and a WebSocket client that plays the page. */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { FakeHost, Mailbox, repoRoot, tempStateDir } from '@openchannels/testkit';
import WebSocket from 'ws';

export const pluginDir = join(repoRoot, 'channels/fakechat');

const LISTENING = /listening on http:\/\/127\.0\.0\.1:(\d+)/;

/** The environment of one test's server: its own state dir, any free port. */
export function testEnv(stateDir: string): Record<string, string> {
  return { FAKECHAT_STATE_DIR: stateDir, FAKECHAT_PORT: '0' };
}

/** The port a running fakechat listens on, from its start-up line. */
export async function pagePort(host: FakeHost): Promise<number> {
  const seen = host.stderr.received.map((line) => LISTENING.exec(line)).find((match) => match !== null);
  const match = seen ?? (await host.stderrMatch(LISTENING));
  return Number(match[1]);
}

export interface Fakechat {
  host: FakeHost;
  port: number;
  stateDir: string;
  /** `http://127.0.0.1:<port>` */
  base: string;
}

/** Starts fakechat with a fresh state dir, on any free port unless told which. */
export async function startFakechat(t: TestContext, port?: number): Promise<Fakechat> {
  const stateDir = tempStateDir('fakechat-');
  const env = { ...testEnv(stateDir), ...(port === undefined ? {} : { FAKECHAT_PORT: String(port) }) };
  const host = await FakeHost.plugin(pluginDir, { env });
  t.after(async () => {
    await host.close();
    rmSync(stateDir, { recursive: true, force: true });
  });
  const actualPort = await pagePort(host);
  return { host, port: actualPort, stateDir, base: `http://127.0.0.1:${actualPort}` };
}

export interface Frame {
  type: string;
  [key: string]: unknown;
}

/** A WebSocket client speaking the page's protocol; collects every frame the server sends. */
export class PageSocket {
  readonly frames = new Mailbox<Frame>();

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => this.frames.push(JSON.parse(String(data)) as Frame));
  }

  /** Opens `/ws` as the page would (its own Origin); resolves once the history has arrived. */
  static async open(port: number, options: WebSocket.ClientOptions = {}): Promise<PageSocket> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { origin: `http://127.0.0.1:${port}`, ...options });
    const page = new PageSocket(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    await page.next('history');
    return page;
  }

  send(frame: object | string): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  sendMessage(id: string, text: string): void {
    this.send({ type: 'send', id, text });
  }

  next(type: string, match: (frame: Frame) => boolean = () => true, timeoutMs?: number): Promise<Frame> {
    return this.frames.next((frame) => frame.type === type && match(frame), timeoutMs, `${type} frame`);
  }

  close(): void {
    this.ws.terminate();
  }
}

/** How a WebSocket upgrade with these options ends: `open`, or the HTTP status it was refused with. */
export function tryUpgrade(port: number, options: WebSocket.ClientOptions): Promise<number | 'open'> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, options);
    ws.once('open', () => {
      ws.terminate();
      resolve('open');
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      ws.terminate();
    });
    ws.on('error', reject);
  });
}
