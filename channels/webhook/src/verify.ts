/**
 * How a named source proves who sent a request: GitHub's X-Hub-Signature-256, a generic
 * HMAC-SHA256 header (optionally over a signed timestamp), or a bearer token. Every comparison
 * of secret material is constant-time. Delivery ids a source sends are remembered, across restarts
 * when the guard has a file, so a replayed delivery is refused.
 */
import { createHmac } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { type Log, secretsEqual } from '@openchannels/kit';
import { BoundedSet } from './bounded-set.js';
import { DeliveryLog, type DeliveryRecord } from './delivery-log.js';

export type Verification = { ok: true; deliveryId?: string } | { ok: false; reason: string };

export interface Verifier {
  /** The scheme, as named in webhook.json: `github`, `hmac-sha256` or `bearer`. */
  readonly type: string;
  verify(headers: IncomingHttpHeaders, body: Buffer, nowSeconds: number): Verification;
}

const GITHUB_SIGNATURE = /^sha256=([0-9a-f]{64})$/i;
const HMAC_SIGNATURE = /^(?:sha256=)?([0-9a-f]{64})$/i;
const UNIX_SECONDS = /^\d{1,12}$/;
const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** A header's value; a repeated header counts by its first value. */
export function headerValue(headers: IncomingHttpHeaders, lowerCaseName: string): string | undefined {
  const value = headers[lowerCaseName];
  return Array.isArray(value) ? value[0] : value;
}

function hexHmac(secret: string, ...parts: Array<string | Buffer>): string {
  const hmac = createHmac('sha256', secret);
  for (const part of parts) hmac.update(part);
  return hmac.digest('hex');
}

/** GitHub: `X-Hub-Signature-256: sha256=<hex HMAC of the raw body>`, `X-GitHub-Delivery` as the id. */
export function githubVerifier(secret: string): Verifier {
  return {
    type: 'github',
    verify(headers, body) {
      const signature = headerValue(headers, 'x-hub-signature-256');
      if (signature === undefined) {
        return { ok: false, reason: 'missing X-Hub-Signature-256 header (give the GitHub webhook a secret)' };
      }
      const given = GITHUB_SIGNATURE.exec(signature.trim())?.[1]?.toLowerCase() ?? '';
      if (!secretsEqual(hexHmac(secret, body), given)) {
        return { ok: false, reason: 'X-Hub-Signature-256 does not match the body and this source\'s secret' };
      }
      const deliveryId = headerValue(headers, 'x-github-delivery');
      if (!deliveryId) return { ok: false, reason: 'missing X-GitHub-Delivery header' };
      return { ok: true, deliveryId };
    },
  };
}

export interface HmacOptions {
  secret: string;
  /** Header names as configured; they appear in refusal texts. */
  header: string;
  timestampHeader?: string;
  toleranceSeconds: number;
  deliveryHeader?: string;
}

/**
 * Generic HMAC-SHA256: a hex digest (optionally `sha256=`-prefixed) of the body, or of
 * `<timestamp>.<body>` when a timestamp header is configured, in which case the timestamp (unix
 * seconds) must lie within the tolerance so a captured request cannot be replayed later.
 */
export function hmacVerifier(options: HmacOptions): Verifier {
  const signatureKey = options.header.toLowerCase();
  const timestampKey = options.timestampHeader?.toLowerCase();
  const deliveryKey = options.deliveryHeader?.toLowerCase();
  return {
    type: 'hmac-sha256',
    verify(headers, body, nowSeconds) {
      const signature = headerValue(headers, signatureKey);
      if (signature === undefined) return { ok: false, reason: `missing ${options.header} header` };
      let timestamp: string | undefined;
      if (timestampKey) {
        timestamp = headerValue(headers, timestampKey)?.trim();
        if (timestamp === undefined) return { ok: false, reason: `missing ${options.timestampHeader} header` };
      }
      const given = HMAC_SIGNATURE.exec(signature.trim())?.[1]?.toLowerCase() ?? '';
      const expected = timestamp === undefined ? hexHmac(options.secret, body) : hexHmac(options.secret, timestamp, '.', body);
      if (!secretsEqual(expected, given)) {
        const signed = timestamp === undefined ? 'the body' : `"<${options.timestampHeader}>.<body>"`;
        const reason = `${options.header} does not match: expected the hex HMAC-SHA256 of ${signed} with this source's secret`;
        return { ok: false, reason };
      }
      if (timestamp !== undefined) {
        if (!UNIX_SECONDS.test(timestamp)) {
          return { ok: false, reason: `${options.timestampHeader} must be a unix time in seconds` };
        }
        const skew = Math.abs(nowSeconds - Number(timestamp));
        if (skew > options.toleranceSeconds) {
          return {
            ok: false,
            reason:
              `${options.timestampHeader} is ${skew} s away from this server's clock; ` +
              `the tolerance is ${options.toleranceSeconds} s`,
          };
        }
      }
      if (!deliveryKey) return { ok: true };
      const deliveryId = headerValue(headers, deliveryKey);
      if (!deliveryId) return { ok: false, reason: `missing ${options.deliveryHeader} header` };
      return { ok: true, deliveryId };
    },
  };
}

/** `Authorization: Bearer <token>`. */
export function bearerVerifier(token: string): Verifier {
  return {
    type: 'bearer',
    verify(headers) {
      const authorization = headerValue(headers, 'authorization');
      if (authorization === undefined) return { ok: false, reason: 'missing Authorization: Bearer header' };
      const given = BEARER.exec(authorization)?.[1];
      if (given === undefined) return { ok: false, reason: 'Authorization header is not "Bearer <token>"' };
      if (!secretsEqual(token, given)) return { ok: false, reason: 'bearer token does not match' };
      return { ok: true };
    },
  };
}

export interface ReplayGuardOptions {
  /** How many ids are remembered: the most recent ones. */
  capacity?: number;
  /** `<state>/deliveries.log`, so ids outlive a restart; without it they are kept in memory only. */
  persist?: { path: string; log: Log };
}

/**
 * Delivery ids seen per source, the most recent `capacity` of them. A delivery is claimed
 * before it is delivered, so two copies in flight at once cannot both get through, and given
 * back when delivery fails, so the sender's retry is accepted.
 */
export class ReplayGuard {
  private readonly seen: BoundedSet<string>;
  private readonly file?: DeliveryLog;

  constructor({ capacity = 10_000, persist }: ReplayGuardOptions = {}) {
    this.seen = new BoundedSet(capacity);
    if (!persist) return;
    // Compacted at twice the capacity: a rewrite every `capacity` deliveries or so, not every one.
    this.file = new DeliveryLog(persist.path, 2 * capacity, persist.log);
    for (const record of this.file.read()) {
      // Replayed in order through the bounded set: the most recent `capacity` claims stand.
      if (record.t === 'claim') this.seen.add(replayKey(record.source, record.delivery));
      else this.seen.delete(replayKey(record.source, record.delivery));
    }
  }

  /** False when this source already delivered this id. */
  claim(source: string, deliveryId: string): boolean {
    const key = replayKey(source, deliveryId);
    if (this.seen.has(key)) return false;
    this.seen.add(key);
    this.file?.write({ t: 'claim', source, delivery: deliveryId }, () => this.claims());
    return true;
  }

  release(source: string, deliveryId: string): void {
    this.seen.delete(replayKey(source, deliveryId));
    this.file?.write({ t: 'release', source, delivery: deliveryId }, () => this.claims());
  }

  private claims(): DeliveryRecord[] {
    return [...this.seen.values()].map((key) => {
      const end = key.indexOf('\n'); // source names have no newline (config.ts)
      return { t: 'claim', source: key.slice(0, end), delivery: key.slice(end + 1) };
    });
  }
}

function replayKey(source: string, deliveryId: string): string {
  return `${source}\n${deliveryId}`;
}
