/**
 * What every loopback HTTP surface of a channel shares: the Host/Origin guard that keeps web
 * pages (cross-site requests, DNS rebinding) out of the session, body limits, clear port errors.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]'];

export interface RequestGuardOptions {
  port: number;
  /** Extra Host values to admit, e.g. a tunnel's public name. */
  allowedHosts?: readonly string[];
  /** Admit requests whose Origin is the loopback page itself (a page served by this server). */
  allowSameOrigin?: boolean;
}

/**
 * Returns why a request must be refused, or null when it may proceed. The Host must name this
 * server on loopback (a rebinding attacker's page sends its own domain); an Origin header, which
 * browsers attach to cross-site and scripted requests, must be this server's own page.
 */
export function refuseForeignRequest(req: IncomingMessage, options: RequestGuardOptions): string | null {
  const host = (req.headers.host ?? '').toLowerCase();
  const loopbackHosts = LOOPBACK_NAMES.map((name) => `${name}:${options.port}`);
  const hostAllowed =
    loopbackHosts.includes(host) || (options.allowedHosts ?? []).some((allowed) => allowed.toLowerCase() === host);
  if (!hostAllowed) return `forbidden: Host ${JSON.stringify(host)} is not this loopback server`;
  const origin = req.headers.origin;
  if (origin === undefined) return null;
  if (options.allowSameOrigin && loopbackHosts.some((h) => origin.toLowerCase() === `http://${h}`)) return null;
  return `forbidden: requests from web pages (Origin ${JSON.stringify(origin)}) are not accepted`;
}

/** Reads a request body, refusing with 413 before buffering more than `limit` bytes. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return Promise.reject(new HttpError(413, `payload too large: the limit is ${limit} bytes`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(new HttpError(413, `payload too large: the limit is ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks, size)));
    req.on('error', reject);
  });
}

/** Decodes a body as UTF-8, refusing bytes that are not valid UTF-8 instead of mangling them. */
export function decodeUtf8(body: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    throw new HttpError(400, 'body is not valid UTF-8');
  }
}

/** Compares two secrets in time that does not depend on where they first differ. */
export function secretsEqual(a: string | Buffer, b: string | Buffer): boolean {
  const left = Buffer.isBuffer(a) ? a : Buffer.from(a);
  const right = Buffer.isBuffer(b) ? b : Buffer.from(b);
  // Compare equal-length buffers so the length check itself does not leak through timing.
  const padded = Buffer.alloc(left.length);
  right.copy(padded, 0, 0, Math.min(right.length, left.length));
  return timingSafeEqual(left, padded) && left.length === right.length;
}

export interface ListenOptions {
  port: number;
  host: string;
  /** The environment variable that changes the port, named in the error. */
  portVariable: string;
}

/** Starts listening; a taken port is a clear error naming the port and how to change it. */
export function listen(server: Server, { port, host, portVariable }: ListenOptions): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      if (err.code === 'EADDRINUSE') {
        reject(new Error(`port ${port} on ${host} is already in use; set ${portVariable} to another port`));
      } else if (err.code === 'EACCES') {
        reject(new Error(`not permitted to listen on port ${port}; set ${portVariable} to a port above 1023`));
      } else {
        reject(err);
      }
    };
    const onListening = () => {
      server.off('error', onError);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

/** Parses a port variable; an invalid value is an error rather than a random port. */
export function parsePort(value: string | undefined, fallback: number, variable: string): number {
  if (value === undefined || value === '') return fallback;
  const port = /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`${variable}=${JSON.stringify(value)} is not a port number (0-65535)`);
  }
  return port;
}
