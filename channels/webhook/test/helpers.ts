/**
 * Running the webhook channel in tests: a server per test (own state dir with its webhook.json
 * and .env, any free port), raw HTTP requests with full control of Host, Origin and body bytes,
 * signatures as senders compute them, and an SSE client for GET /events.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type IncomingHttpHeaders, type IncomingMessage, request } from 'node:http';
import { join } from 'node:path';
import type { ServerSpec } from '@openchannels/host';
import { readPluginServers } from '@openchannels/host';
import { FakeHost, Mailbox, repoRoot, tempStateDir } from '@openchannels/testkit';

export const pluginDir = join(repoRoot, 'channels/webhook');
export const LISTENING = /listening on http:\/\/127\.0\.0\.1:(\d+)/;

export const GITHUB_SECRET = 'gh-test-secret';
export const CI_SECRET = 'ci-test-secret';
export const ALERTS_TOKEN = 'alerts-test-token';
export const STRIPE_SECRET = 'whsec_stripe-test-secret';
export const SLACK_SECRET = 'slack-test-signing-secret';

/** A config with one source of each verification type. */
export const VERIFIED_CONFIG = {
  sources: {
    github: { path: '/github', verify: { type: 'github', secretEnv: 'GITHUB_WEBHOOK_SECRET' } },
    ci: {
      path: '/ci',
      verify: {
        type: 'hmac-sha256',
        header: 'X-Signature',
        secretEnv: 'CI_WEBHOOK_SECRET',
        timestampHeader: 'X-Timestamp',
        toleranceSeconds: 300,
        deliveryHeader: 'X-Delivery-Id',
      },
    },
    alerts: { path: '/alerts', verify: { type: 'bearer', tokenEnv: 'ALERTS_TOKEN' } },
    stripe: { path: '/stripe', verify: { type: 'stripe', secretEnv: 'STRIPE_WEBHOOK_SECRET' } },
    slack: { path: '/slack', verify: { type: 'slack', secretEnv: 'SLACK_SIGNING_SECRET' } },
  },
};

/** The secrets of VERIFIED_CONFIG, as the `.env` file beside it. */
export const VERIFIED_DOTENV = [
  `GITHUB_WEBHOOK_SECRET=${GITHUB_SECRET}`,
  `CI_WEBHOOK_SECRET=${CI_SECRET}`,
  `ALERTS_TOKEN=${ALERTS_TOKEN}`,
  `STRIPE_WEBHOOK_SECRET=${STRIPE_SECRET}`,
  `SLACK_SIGNING_SECRET=${SLACK_SECRET}`,
].join('\n');

export interface Setup {
  /** webhook.json: an object is written as JSON, a string as is. */
  config?: object | string;
  /** `<state>/.env` */
  dotenv?: string;
  env?: Record<string, string>;
  /** The state dir of an earlier run, to start the channel again on what it left; else a fresh one. */
  stateDir?: string;
}

/** Every state dir of this test file lives under one directory, removed when the file's run ends. */
const stateRoot = tempStateDir('webhook-tests-');
process.on('exit', () => rmSync(stateRoot, { recursive: true, force: true }));

/** A fresh, empty state directory. */
export function scratchDir(): string {
  return mkdtempSync(join(stateRoot, 'state-'));
}

/** A spec for the plugin's server with its own state dir, written from `setup`. */
export function webhookSpec(setup: Setup = {}): ServerSpec {
  const stateDir = setup.stateDir ?? scratchDir();
  if (setup.config !== undefined) {
    const text = typeof setup.config === 'string' ? setup.config : JSON.stringify(setup.config, null, 2);
    writeFileSync(join(stateDir, 'webhook.json'), text);
  }
  if (setup.dotenv !== undefined) writeFileSync(join(stateDir, '.env'), setup.dotenv);
  const [spec] = readPluginServers(pluginDir);
  return { ...spec!, env: { WEBHOOK_STATE_DIR: stateDir, WEBHOOK_PORT: '0', ...setup.env } };
}

export interface Webhook {
  host: FakeHost;
  port: number;
  stateDir: string;
}

/** The port of a running server, from its start-up line. */
export async function listeningPort(host: FakeHost): Promise<number> {
  const seen = host.stderr.received.map((line) => LISTENING.exec(line)).find((match) => match !== null);
  return Number((seen ?? (await host.stderrMatch(LISTENING)))[1]);
}

export async function startWebhook(setup: Setup = {}): Promise<Webhook> {
  const spec = webhookSpec(setup);
  const host = await FakeHost.start(spec);
  return { host, port: await listeningPort(host), stateDir: spec.env.WEBHOOK_STATE_DIR! };
}

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

export interface Send {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Send the body without a Content-Length (chunked), as a streaming sender does. */
  chunked?: boolean;
}

/** One HTTP request to the server on 127.0.0.1, sent exactly as given. */
export function send(port: number, { method = 'POST', path = '/', headers = {}, body, chunked = false }: Send = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body !== undefined && chunked) {
      req.write(body);
      req.end();
    } else {
      req.end(body);
    }
  });
}

export function hmacHex(secret: string, ...parts: Array<string | Buffer>): string {
  const hmac = createHmac('sha256', secret);
  for (const part of parts) hmac.update(part);
  return hmac.digest('hex');
}

let deliveries = 0;

/** Headers of a GitHub delivery of `event` with `body`, signed as GitHub signs it. */
export function githubHeaders(event: string, body: string, secret = GITHUB_SECRET): Record<string, string> {
  return {
    'content-type': 'application/json',
    'x-github-event': event,
    'x-github-delivery': `d-${process.pid}-${++deliveries}`,
    'x-hub-signature-256': `sha256=${hmacHex(secret, body)}`,
  };
}

/** Headers of a request to the `ci` source of VERIFIED_CONFIG: timestamp, delivery id, signature. */
export function ciHeaders(body: string, { timestamp = Math.floor(Date.now() / 1000), deliveryId = `ci-${process.pid}-${++deliveries}` } = {}): Record<string, string> {
  return {
    'x-timestamp': String(timestamp),
    'x-delivery-id': deliveryId,
    'x-signature': `sha256=${hmacHex(CI_SECRET, `${timestamp}.`, body)}`,
  };
}

/** A fresh Stripe event id, `evt_…`. */
export function stripeEventId(): string {
  return `evt_${process.pid}_${++deliveries}`;
}

/**
 * Headers of a Stripe delivery of `body`: one v1 signature per secret, as Stripe sends while an
 * endpoint's secret is being rolled.
 */
export function stripeHeaders(body: string, { timestamp = Math.floor(Date.now() / 1000), secrets = [STRIPE_SECRET] } = {}): Record<string, string> {
  const signatures = secrets.map((secret) => `v1=${hmacHex(secret, `${timestamp}.`, body)}`);
  return { 'content-type': 'application/json; charset=utf-8', 'stripe-signature': [`t=${timestamp}`, ...signatures].join(',') };
}

/** Headers of a Slack Events API request with `body`, signed as Slack signs it. */
export function slackHeaders(body: string, { timestamp = Math.floor(Date.now() / 1000), secret = SLACK_SECRET } = {}): Record<string, string> {
  return {
    'content-type': 'application/json',
    'x-slack-request-timestamp': String(timestamp),
    'x-slack-signature': `v0=${hmacHex(secret, `v0:${timestamp}:`, body)}`,
  };
}

export interface SseEvent {
  id?: string;
  event: string;
  data: Record<string, string>;
}

/** A listener on GET /events that parses the stream into events. */
export class SseClient {
  readonly events = new Mailbox<SseEvent>();
  readonly comments: string[] = [];

  private constructor(readonly response: IncomingMessage) {
    let buffer = '';
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => {
      buffer += chunk;
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        this.parseFrame(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
      }
    });
  }

  private parseFrame(frame: string): void {
    const fields: Record<string, string> = {};
    for (const line of frame.split('\n')) {
      if (line.startsWith(':')) this.comments.push(line.slice(1).trim());
      const colon = line.indexOf(': ');
      if (colon > 0) fields[line.slice(0, colon)] = line.slice(colon + 2);
    }
    if (fields.data !== undefined) {
      this.events.push({ id: fields.id, event: fields.event ?? 'message', data: JSON.parse(fields.data) as Record<string, string> });
    }
  }

  /** Opens the stream; resolves with the client once the response has started. */
  static connect(port: number, { path = '/events', headers = {} }: { path?: string; headers?: Record<string, string> } = {}): Promise<SseClient> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          reject(new Error(`GET ${path} answered ${res.statusCode}`));
          return;
        }
        resolve(new SseClient(res));
      });
      req.on('error', reject);
      req.end();
    });
  }

  next(event: string, match: (e: SseEvent) => boolean = () => true, timeoutMs?: number): Promise<SseEvent> {
    return this.events.next((e) => e.event === event && match(e), timeoutMs, `${event} on /events`);
  }

  close(): void {
    this.response.destroy();
  }
}

export interface Exit {
  code: number | null;
  stderr: string;
}

/** Runs the server for a start-up that must fail: resolves with its exit code and stderr. */
export function runUntilExit(setup: Setup, timeoutMs = 5000): Promise<Exit> {
  const spec = webhookSpec(setup);
  const child = spawn(spec.command, spec.args, { env: { ...process.env, ...spec.env }, stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) =>
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    }),
  );
}

/**
 * Unique bodies for requests that must be refused, and the check, at the end of a file, that none
 * of them ever reached the session.
 */
export class RefusedBodies {
  private readonly bodies: string[] = [];

  next(what: string): string {
    const text = `refused-${what}-${this.bodies.length}`;
    this.bodies.push(text);
    return text;
  }

  async assertNoneDelivered(host: FakeHost): Promise<void> {
    const events = await host.events.settle(300);
    for (const text of this.bodies) {
      assert.equal(events.some((e) => e.content.includes(text)), false, `${text} reached the session`);
    }
  }
}
