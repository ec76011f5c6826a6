/**
 * The "platform" of fakechat: a page on loopback, its WebSocket and its upload and download
 * routes. Every request passes the Host/Origin guard first: the page can answer permission
 * prompts and type into the session, so no other web page may reach it (cross-site requests,
 * DNS rebinding).
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { Duplex } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { join } from 'node:path';
import {
  type Behavior,
  type Channel,
  HttpError,
  type OutboundFile,
  type PermissionRequest,
  errorText,
  listen,
  readBody,
  refuseForeignRequest,
} from '@openchannels/kit';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import {
  type Attachment,
  type ChatItem,
  Conversation,
  MESSAGE_ID_PATTERN,
  type MessageItem,
  type ServerFrame,
  parsePageFrame,
} from './conversation.js';
import {
  MAX_FILE_BYTES,
  attachmentDisposition,
  contentTypeFor,
  copyToOutbox,
  safeFileName,
  saveUpload,
} from './files.js';
import { pageSecurityPolicy, renderPage } from './page.js';

const HOST = '127.0.0.1';
const HISTORY_LIMIT = 1000;
/** A text frame is one chat message; a larger frame closes that page's connection. */
const MAX_FRAME_BYTES = 1024 * 1024;
/** Multipart framing around a file at the size limit. */
const MAX_UPLOAD_BODY_BYTES = MAX_FILE_BYTES + 64 * 1024;

export interface WebChatOptions {
  channel: Channel;
  inboxDir: string;
  outboxDir: string;
}

export interface ReplyInput {
  text: string;
  replyTo?: string;
  files: readonly OutboundFile[];
}

interface Inbound {
  id: string;
  text: string;
  upload?: { name: string; path: string; size: number };
}

export class WebChat {
  private readonly channel: Channel;
  private readonly inboxDir: string;
  private readonly outboxDir: string;
  private readonly conversation = new Conversation(HISTORY_LIMIT);
  private readonly http: Server;
  private readonly sockets = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
  /** The port actually listened on, which the guard requires in the Host header. */
  private port = 0;
  private sentCount = 0;

  constructor({ channel, inboxDir, outboxDir }: WebChatOptions) {
    this.channel = channel;
    this.inboxDir = inboxDir;
    this.outboxDir = outboxDir;
    this.http = createServer((req, res) => {
      this.route(req, res).catch((err) => {
        this.channel.log(`request failed: ${errorText(err)}`);
        if (!res.headersSent) sendText(res, 500, 'internal error');
        else res.destroy();
      });
    });
    this.http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head));
    this.sockets.on('connection', (ws: WebSocket) => this.welcome(ws));
  }

  async listen(port: number): Promise<number> {
    this.port = await listen(this.http, { port, host: HOST, portVariable: 'FAKECHAT_PORT' });
    return this.port;
  }

  async close(): Promise<void> {
    for (const client of this.sockets.clients) client.terminate();
    this.sockets.close();
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  // --- what the agent does (tools, permission prompts) ---

  /** Copies the files to the outbox and shows one message with all of them in every page. */
  postReply({ text, replyTo, files }: ReplyInput): MessageItem {
    const stored = copyToOutbox(files, this.outboxDir);
    const attachments: Attachment[] = files.map((file, i) => ({
      name: safeFileName(file.name),
      size: file.size,
      url: `/files/${stored[i]}`,
    }));
    const message: MessageItem = {
      type: 'msg',
      id: `m${Date.now()}-${++this.sentCount}`,
      from: 'assistant',
      text,
      ts: Date.now(),
      ...(replyTo ? { replyTo } : {}),
      files: attachments,
    };
    this.post(message);
    return message;
  }

  editReply(id: string, text: string): void {
    const message = this.conversation.message(id, 'assistant');
    if (!message) {
      const hint = this.conversation.message(id, 'user') ? " (that is the user's message; only your own can be edited)" : '';
      throw new Error(`no message ${id}${hint}`);
    }
    message.text = text;
    message.edited = true;
    this.broadcast({ type: 'edit', id, text });
  }

  showPermission(request: PermissionRequest): void {
    const { request_id, tool_name, description, input_preview } = request;
    this.post({ type: 'permission', request_id, tool_name, description, input_preview, ts: Date.now(), state: 'open' });
  }

  // --- what the page does ---

  private async receive({ id, text, upload }: Inbound): Promise<void> {
    const ts = Date.now();
    const files: Attachment[] = upload ? [{ name: upload.name, size: upload.size }] : [];
    // The page is the local user (the guard keeps everyone else out), so a typed verdict counts.
    const verdict = upload ? null : await this.channel.consumeVerdict(text);
    if (verdict) {
      this.post({ type: 'msg', id, from: 'user', text, ts, files, answers: verdict.request_id });
      this.settlePermission(verdict.request_id, verdict.behavior);
      return;
    }
    this.post({ type: 'msg', id, from: 'user', text, ts, files });
    await this.channel.emit(text || `(${upload?.name})`, {
      chat_id: 'web',
      message_id: id,
      user: 'web',
      ts: new Date(ts).toISOString(),
      file_path: upload?.path,
    });
  }

  private async answerPermission(requestId: string, behavior: Behavior): Promise<void> {
    const prompt = this.conversation.permission(requestId);
    if (prompt?.state !== 'open') {
      this.channel.log(`ignored an answer to permission request ${requestId}: ${prompt ? 'already answered' : 'unknown'}`);
      return;
    }
    await this.channel.sendVerdict(requestId, behavior);
    this.settlePermission(requestId, behavior);
  }

  /** Marks an open prompt answered in every page; the first answer wins, as in the host. */
  private settlePermission(requestId: string, behavior: Behavior): void {
    const prompt = this.conversation.permission(requestId);
    if (prompt?.state !== 'open') return;
    prompt.state = behavior === 'allow' ? 'allowed' : 'denied';
    this.broadcast(prompt);
  }

  private post(item: ChatItem): void {
    this.conversation.add(item);
    this.broadcast(item);
  }

  private broadcast(frame: ServerFrame): void {
    const data = JSON.stringify(frame);
    for (const client of this.sockets.clients) {
      if (client.readyState === WebSocket.OPEN) client.send(data);
    }
  }

  // --- HTTP and WebSocket plumbing ---

  private refusal(req: IncomingMessage): string | null {
    const reason = refuseForeignRequest(req, { port: this.port, allowSameOrigin: true });
    if (reason) this.channel.log(`refused ${req.method} ${req.url}: ${reason}`);
    return reason;
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const refusal = this.refusal(req);
    if (refusal) return sendText(res, 403, refusal);
    const { pathname } = new URL(req.url ?? '/', `http://${HOST}`);
    const reading = req.method === 'GET' || req.method === 'HEAD';
    try {
      if (pathname === '/' && reading) return this.servePage(res);
      if (pathname.startsWith('/files/') && reading) return await this.serveFile(pathname.slice('/files/'.length), res);
      if (pathname === '/upload') {
        if (req.method !== 'POST') return sendText(res, 405, 'use POST');
        return await this.receiveUpload(req, res);
      }
      sendText(res, 404, 'not found');
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      sendText(res, err.status, err.message);
    }
  }

  private servePage(res: ServerResponse): void {
    const nonce = randomBytes(16).toString('base64');
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': pageSecurityPolicy(nonce, this.port),
      'x-frame-options': 'DENY',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-store',
    });
    res.end(renderPage(nonce));
  }

  private async serveFile(encodedName: string, res: ServerResponse): Promise<void> {
    let name: string;
    try {
      name = decodeURIComponent(encodedName);
    } catch {
      throw new HttpError(400, 'bad file name');
    }
    if (!name || name.includes('..') || /[/\\\0]/.test(name)) throw new HttpError(400, 'bad file name');
    const path = join(this.outboxDir, name);
    const found = await stat(path).catch(() => null);
    if (!found?.isFile()) throw new HttpError(404, 'not found');
    res.writeHead(200, {
      'content-type': contentTypeFor(name),
      'content-length': found.size,
      'content-disposition': attachmentDisposition(this.conversation.attachmentName(`/files/${name}`) ?? name),
      'x-content-type-options': 'nosniff',
      // A file the agent sends (an SVG, say) must never run as a script of this origin.
      'content-security-policy': "default-src 'none'; sandbox",
    });
    await pipeline(createReadStream(path), res);
  }

  private async receiveUpload(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req, MAX_UPLOAD_BODY_BYTES);
    let form: FormData;
    try {
      form = await new Response(body, { headers: { 'content-type': req.headers['content-type'] ?? '' } }).formData();
    } catch {
      throw new HttpError(400, 'expected a multipart/form-data body');
    }
    const id = form.get('id');
    if (typeof id !== 'string' || id === '') throw new HttpError(400, 'missing id');
    if (!MESSAGE_ID_PATTERN.test(id)) throw new HttpError(400, 'bad id: letters, digits, _ and - only, at most 64');
    const textField = form.get('text');
    const text = typeof textField === 'string' ? textField.trim() : '';
    const fileField = form.get('file');
    // A form with no file picked still carries an empty, nameless file part.
    const file = fileField !== null && typeof fileField !== 'string' && fileField.name !== '' ? fileField : null;
    if (!file && !text) throw new HttpError(400, 'nothing to send: no text and no file');
    if (file && file.size > MAX_FILE_BYTES) throw new HttpError(413, `file too large: the limit is ${MAX_FILE_BYTES} bytes`);
    let upload: Inbound['upload'];
    if (file) {
      const name = safeFileName(file.name);
      const path = await saveUpload(this.inboxDir, name, new Uint8Array(await file.arrayBuffer()));
      upload = { name, path, size: file.size };
    }
    await this.receive({ id, text, upload });
    res.writeHead(204).end();
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', (err) => this.channel.log(`page connection error: ${errorText(err)}`));
    const refusal = this.refusal(req);
    const { pathname } = new URL(req.url ?? '/', `http://${HOST}`);
    if (refusal || pathname !== '/ws') {
      const [status, text] = refusal ? ['403 Forbidden', refusal] : ['404 Not Found', 'not found'];
      const body = Buffer.from(`${text}\n`);
      socket.end(
        `HTTP/1.1 ${status}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
        () => socket.destroy(),
      );
      return;
    }
    this.sockets.handleUpgrade(req, socket, head, (ws) => this.sockets.emit('connection', ws, req));
  }

  private welcome(ws: WebSocket): void {
    ws.on('error', (err) => this.channel.log(`page connection closed: ${errorText(err)}`));
    ws.on('message', (data: RawData, isBinary: boolean) => {
      this.onFrame(data, isBinary).catch((err) => this.channel.log(`could not handle a frame: ${errorText(err)}`));
    });
    ws.send(JSON.stringify({ type: 'history', items: this.conversation.snapshot } satisfies ServerFrame));
  }

  private async onFrame(data: RawData, isBinary: boolean): Promise<void> {
    if (isBinary || !Buffer.isBuffer(data)) {
      this.channel.log('ignored a binary frame from a page');
      return;
    }
    const frame = parsePageFrame(data.toString('utf8'));
    if ('error' in frame) {
      this.channel.log(`ignored a malformed frame from a page: ${frame.error}`);
      return;
    }
    if (frame.type === 'verdict') return this.answerPermission(frame.request_id, frame.behavior);
    const text = frame.text.trim();
    if (text) await this.receive({ id: frame.id, text });
  }
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' });
  res.end(`${text}\n`);
}
