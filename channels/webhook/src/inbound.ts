/**
 * The HTTP side. Every request first passes the Host/Origin guard, then: GET /events streams
 * what the channel sends out, GET / answers with a short help, POST/PUT/PATCH is verified (for a
 * named source) and delivered as an event, or read as a permission verdict when it comes from a
 * verified source, or answered on the spot when its verifier says the sender expects a handshake
 * reply (Slack's URL verification). A refused request gets a clear 4xx text and one stderr line,
 * and never reaches the session.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import {
  HttpError,
  type Log,
  type MetaInput,
  type Verdict,
  decodeUtf8,
  errorText,
  readBody,
  refuseForeignRequest,
} from '@openchannels/kit';
import type { BoundedSet } from './bounded-set.js';
import { EVENTS_PATH, type WebhookConfig, sourceForPath } from './config.js';
import type { EventStream } from './events-stream.js';
import { describeGitHubDelivery } from './github.js';
import { ReplayGuard, headerValue } from './verify.js';

export interface InboundOptions {
  config: WebhookConfig;
  stream: EventStream;
  /** Pushes an event into the session; false when it could not be written. */
  emit(content: string, meta: MetaInput): Promise<boolean>;
  /**
   * Present when the channel relays permission prompts: sends the text to the host if it is a
   * verdict (`yes abcde`) and returns it, else returns null.
   */
  consumeVerdict?(text: string): Promise<Verdict | null>;
  /** The chat ids of delivered events: the ones the reply tool may answer. */
  chats: BoundedSet<string>;
  log: Log;
  replays?: ReplayGuard;
  nowSeconds?: () => number;
}

const DELIVERING_METHODS = new Set(['POST', 'PUT', 'PATCH']);
const JSON_MEDIA_TYPE = /^application\/(?:[a-z0-9.+-]+\+)?json$/;
const FORM_MEDIA_TYPE = 'application/x-www-form-urlencoded';
/** Sent with a 503: the sender should try the same request again shortly. */
const RETRY_LATER = { 'retry-after': '5' };
const LOOPBACK_ADDRESS = /^(?:127\.|::1$|::ffff:127\.)/;
/** Headers proxies and tunnels add: their presence means the listener is not on this machine. */
const FORWARDING_HEADERS = ['forwarded', 'x-forwarded-for', 'x-real-ip', 'cf-connecting-ip'];

const HELP = [
  'webhook channel: POST (or PUT, PATCH) a body here and it arrives in the Claude Code session as an event:',
  '  curl -X POST http://127.0.0.1:PORT/ -d "build failed on main"',
  'Paths that webhook.json names as sources may require a signature or token.',
  'Replies and permission prompts stream from GET /events (Server-Sent Events, this machine only).',
].join('\n');

let chatCounter = 0;

/** A fresh id per event: `wh-<base36 time>-<n>`. */
function nextChatId(): string {
  return `wh-${Date.now().toString(36)}-${++chatCounter}`;
}

function mediaTypeOf(contentType: string | undefined): string | undefined {
  if (!contentType) return undefined;
  const end = contentType.indexOf(';');
  return (end < 0 ? contentType : contentType.slice(0, end)).trim().toLowerCase() || undefined;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new HttpError(400, `malformed JSON: ${errorText(err)}`);
  }
}

/** The body of a GitHub delivery: JSON, or the `payload` field of a form-encoded one. */
function parseGitHubForm(text: string): unknown {
  const payload = new URLSearchParams(text).get('payload');
  if (payload === null) throw new HttpError(400, 'malformed JSON: the form has no payload field');
  return parseJson(payload);
}

/** A verdict is the body itself (`yes abcde`) or a JSON body's `verdict` field. */
function verdictCandidate(text: string, json: unknown): string {
  let value = json;
  if (value === undefined && text.trimStart().startsWith('{')) {
    try {
      value = JSON.parse(text);
    } catch {
      return text;
    }
  }
  const field = typeof value === 'object' && value !== null ? (value as { verdict?: unknown }).verdict : undefined;
  return typeof field === 'string' ? field : text;
}

type ExtraHeaders = Record<string, string>;

function send(res: ServerResponse, status: number, contentType: string, body: string, headers: ExtraHeaders = {}): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

function json(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, 'application/json', JSON.stringify(value));
}

export function createInboundHandler(options: InboundOptions): RequestListener {
  const { config, stream, emit, consumeVerdict, chats, log } = options;
  const replays = options.replays ?? new ReplayGuard();
  const nowSeconds = options.nowSeconds ?? (() => Math.floor(Date.now() / 1000));

  const refuse = (
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    status: number,
    reason: string,
    headers: ExtraHeaders = {},
  ) => {
    log(`refused ${req.method} ${path}: ${status} ${reason}`);
    send(res, status, 'text/plain; charset=utf-8', `${reason}\n`, headers);
  };

  /** The stream carries replies and permission prompts: only for listeners on this machine. */
  const refuseRemoteListener = (req: IncomingMessage): string | null => {
    if (refuseForeignRequest(req, { port: req.socket.localPort ?? 0 }) !== null) {
      return `forbidden: ${EVENTS_PATH} is served only to Host 127.0.0.1, localhost or [::1]`;
    }
    if (!LOOPBACK_ADDRESS.test(req.socket.remoteAddress ?? '')) {
      return `forbidden: ${EVENTS_PATH} is served only to this machine`;
    }
    if (FORWARDING_HEADERS.some((name) => req.headers[name] !== undefined)) {
      return `forbidden: ${EVENTS_PATH} is not served through a proxy or tunnel`;
    }
    return null;
  };

  const streamEvents = (req: IncomingMessage, res: ServerResponse, path: string, query: string) => {
    if (req.method !== 'GET') {
      return refuse(req, res, path, 405, `method ${req.method} not allowed on ${EVENTS_PATH}`, { allow: 'GET' });
    }
    const remote = refuseRemoteListener(req);
    if (remote) return refuse(req, res, path, 403, remote);
    const chatId = new URLSearchParams(query).get('chat_id') ?? undefined;
    stream.attach(res, { chatId, lastEventId: headerValue(req.headers, 'last-event-id') });
  };

  const deliver = async (req: IncomingMessage, res: ServerResponse, path: string, query: string) => {
    const source = sourceForPath(config, path);
    if (!source && config.requireVerification) {
      return refuse(req, res, path, 401, `no source is configured for ${path}, and requireVerification is on`);
    }
    const body = await readBody(req, config.maxBodyBytes);
    let deliveryId: string | undefined;
    if (source?.verifier) {
      const verification = source.verifier.verify(req.headers, body, nowSeconds());
      if (!verification.ok) return refuse(req, res, path, 401, verification.reason);
      if (verification.answer) return json(res, 200, verification.answer);
      deliveryId = verification.deliveryId;
    }
    const text = decodeUtf8(body);
    const mediaType = mediaTypeOf(headerValue(req.headers, 'content-type'));
    const githubEvent = headerValue(req.headers, 'x-github-event');
    let parsed: unknown;
    if (mediaType !== undefined && JSON_MEDIA_TYPE.test(mediaType)) parsed = parseJson(text);
    else if (githubEvent && mediaType === FORM_MEDIA_TYPE) parsed = parseGitHubForm(text);

    if (source && deliveryId !== undefined && !replays.claim(source.name, deliveryId)) {
      if (source.verifier?.acknowledgesDuplicates) {
        log(`${req.method} ${path}: delivery ${deliveryId} was already received; acknowledged, not delivered again`);
        return json(res, 200, { duplicate: deliveryId });
      }
      return refuse(req, res, path, 409, `delivery ${deliveryId} was already received`);
    }
    const giveBack = () => {
      if (source && deliveryId !== undefined) replays.release(source.name, deliveryId);
    };

    // Only a verified sender may answer a permission prompt: whoever answers approves tool use.
    if (source?.verifier && consumeVerdict) {
      let verdict: Verdict | null;
      try {
        verdict = await consumeVerdict(verdictCandidate(text, parsed));
      } catch (err) {
        giveBack();
        const reason = `the verdict could not be sent to the session: ${errorText(err)}`;
        return refuse(req, res, path, 503, reason, RETRY_LATER);
      }
      if (verdict) {
        stream.publish('permission_resolved', verdict);
        return json(res, 200, { verdict });
      }
    }

    const chatId = nextChatId();
    let content = text;
    let github: ReturnType<typeof describeGitHubDelivery>['meta'] | undefined;
    if (githubEvent && parsed !== undefined) {
      const summary = describeGitHubDelivery(githubEvent, parsed);
      content = summary.content;
      github = summary.meta;
    }
    const meta: MetaInput = {
      chat_id: chatId,
      path,
      query: query || undefined,
      method: req.method,
      hook: source?.name,
      ...github,
      delivery: deliveryId ?? (githubEvent ? headerValue(req.headers, 'x-github-delivery') : undefined),
      content_type: mediaType,
    };
    chats.add(chatId);
    if (!(await emit(content, meta))) {
      chats.delete(chatId);
      giveBack();
      const reason = 'the Claude Code session is not connected, so the event was not delivered; retry later';
      return refuse(req, res, path, 503, reason, RETRY_LATER);
    }
    json(res, 202, { chat_id: chatId });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? '/';
    const queryStart = url.indexOf('?');
    const path = queryStart < 0 ? url : url.slice(0, queryStart);
    const query = queryStart < 0 ? '' : url.slice(queryStart + 1);
    const foreign = refuseForeignRequest(req, { port: req.socket.localPort ?? 0, allowedHosts: config.allowedHosts });
    if (foreign) return refuse(req, res, path, 403, foreign);
    if (path === EVENTS_PATH) return streamEvents(req, res, path, query);
    const method = req.method ?? '';
    if (DELIVERING_METHODS.has(method)) return deliver(req, res, path, query);
    if (path === '/' && (method === 'GET' || method === 'HEAD')) {
      return send(res, 200, 'text/plain; charset=utf-8', `${HELP.replace('PORT', String(req.socket.localPort))}\n`);
    }
    refuse(req, res, path, 405, `method ${method} not allowed: POST, PUT or PATCH a body to deliver an event`, {
      allow: path === '/' ? 'GET, HEAD, POST, PUT, PATCH' : 'POST, PUT, PATCH',
    });
  };

  return (req, res) => {
    handle(req, res).catch((err: unknown) => {
      const path = (req.url ?? '/').split('?', 1)[0]!;
      if (err instanceof HttpError) {
        // Past a body limit the rest of the upload is unwanted: close rather than drain it.
        const headers: ExtraHeaders = err.status === 413 ? { connection: 'close' } : {};
        return refuse(req, res, path, err.status, err.message, headers);
      }
      // A sender that hung up mid-body, or a bug: nothing reached the session either way.
      log(`${req.method} ${path} failed: ${errorText(err)}`);
      if (res.headersSent) res.destroy();
      else send(res, 500, 'text/plain; charset=utf-8', 'internal error\n');
    });
  };
}
