/**
 * How a named source proves who sent a request: GitHub's X-Hub-Signature-256, Stripe's
 * Stripe-Signature, Slack's X-Slack-Signature, a generic HMAC-SHA256 header (optionally over a
 * signed timestamp), or a bearer token. Every comparison of secret material is constant-time.
 * Delivery ids a source sends are remembered, across restarts when the guard has a file, so a
 * replayed delivery is refused.
 */
import { createHmac } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { type Log, secretsEqual } from '@openchannels/kit';
import { BoundedSet } from './bounded-set.js';
import { DeliveryLog, type DeliveryRecord } from './delivery-log.js';

export type Verification =
  | {
      ok: true;
      deliveryId?: string;
      /**
       * What the sender expects back instead of a delivery (Slack's URL verification handshake):
       * sent as JSON with 200, and nothing reaches the session.
       */
      answer?: Record<string, string>;
    }
  | { ok: false; reason: string };

export interface Verifier {
  /** The scheme, as named in webhook.json: `github`, `stripe`, `slack`, `hmac-sha256` or `bearer`. */
  readonly type: string;
  /**
   * The sender retries whatever is not a 2xx, and disables an endpoint that keeps failing
   * (Stripe, Slack): a delivery it sends again is answered 200, and still not delivered twice.
   */
  readonly acknowledgesDuplicates?: boolean;
  verify(headers: IncomingHttpHeaders, body: Buffer, nowSeconds: number): Verification;
}

const GITHUB_SIGNATURE = /^sha256=([0-9a-f]{64})$/i;
const HMAC_SIGNATURE = /^(?:sha256=)?([0-9a-f]{64})$/i;
const SLACK_SIGNATURE = /^v0=([0-9a-f]{64})$/i;
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

/** Why a signed timestamp is refused: not unix seconds, or farther from this clock than the tolerance. */
function timestampProblem(name: string, timestamp: string, nowSeconds: number, toleranceSeconds: number): string | undefined {
  if (!UNIX_SECONDS.test(timestamp)) return `${name} must be a unix time in seconds`;
  const skew = Math.abs(nowSeconds - Number(timestamp));
  if (skew <= toleranceSeconds) return undefined;
  return `${name} is ${skew} s away from this server's clock; the tolerance is ${toleranceSeconds} s`;
}

/** The body as a JSON object; undefined for anything else (a form post, plain text). */
function jsonObject(body: Buffer): Record<string, unknown> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function stringField(object: Record<string, unknown> | undefined, name: string): string | undefined {
  const value = object?.[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Accepted, with the delivery id when the sender gave one. */
function verified(deliveryId: string | undefined): Verification {
  return deliveryId === undefined ? { ok: true } : { ok: true, deliveryId };
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

/**
 * `t=<unix>,v1=<hex>[,v1=<hex>…][,v0=<hex>]`: the timestamp and every v1 signature. Other schemes
 * (v0 is Stripe's legacy test-mode one) are ignored; undefined when t or v1 is missing, t repeats,
 * or an element is not `key=value`.
 */
function parseStripeSignature(header: string): { timestamp: string; signatures: string[] } | undefined {
  let timestamp: string | undefined;
  const signatures: string[] = [];
  for (const element of header.split(',')) {
    const equals = element.indexOf('=');
    if (equals < 0) return undefined;
    const key = element.slice(0, equals).trim();
    const value = element.slice(equals + 1).trim();
    if (key === 't') {
      if (timestamp !== undefined) return undefined; // which of two timestamps was signed?
      timestamp = value;
    } else if (key === 'v1') {
      signatures.push(value.toLowerCase());
    }
  }
  return timestamp !== undefined && signatures.length > 0 ? { timestamp, signatures } : undefined;
}

/**
 * Stripe: each v1 in `Stripe-Signature` is the hex HMAC-SHA256 of `<t>.<body>` with the
 * endpoint's signing secret (`whsec_…`, the key as given). While a secret is being rolled Stripe
 * signs with the old and the new one, so one matching v1 is enough. The event's `id` is the
 * delivery id: Stripe retries an event under the same id with a fresh timestamp and signature.
 */
export function stripeVerifier(secret: string, toleranceSeconds: number): Verifier {
  return {
    type: 'stripe',
    acknowledgesDuplicates: true,
    verify(headers, body, nowSeconds) {
      const header = headerValue(headers, 'stripe-signature');
      if (header === undefined) return { ok: false, reason: 'missing Stripe-Signature header' };
      const parsed = parseStripeSignature(header);
      if (!parsed) return { ok: false, reason: 'Stripe-Signature is malformed: expected "t=<unix time>,v1=<hex signature>"' };
      const expected = hexHmac(secret, parsed.timestamp, '.', body);
      if (!parsed.signatures.some((given) => secretsEqual(expected, given))) {
        return { ok: false, reason: `no v1 signature in Stripe-Signature matches "<t>.<body>" signed with this source's secret` };
      }
      const problem = timestampProblem('the Stripe-Signature timestamp', parsed.timestamp, nowSeconds, toleranceSeconds);
      if (problem) return { ok: false, reason: problem };
      return verified(stringField(jsonObject(body), 'id'));
    },
  };
}

/**
 * Slack: `X-Slack-Signature: v0=<hex HMAC-SHA256 of "v0:<timestamp>:<body>">` with the app's
 * signing secret, the timestamp from `X-Slack-Request-Timestamp`. An Events API event's
 * `event_id` is the delivery id (Slack retries under the same id). The handshake Slack sends when
 * a Request URL is saved is answered with its challenge instead of being delivered.
 */
export function slackVerifier(secret: string, toleranceSeconds: number): Verifier {
  return {
    type: 'slack',
    acknowledgesDuplicates: true,
    verify(headers, body, nowSeconds) {
      const signature = headerValue(headers, 'x-slack-signature');
      if (signature === undefined) return { ok: false, reason: 'missing X-Slack-Signature header' };
      const timestamp = headerValue(headers, 'x-slack-request-timestamp')?.trim();
      if (timestamp === undefined) return { ok: false, reason: 'missing X-Slack-Request-Timestamp header' };
      const given = SLACK_SIGNATURE.exec(signature.trim())?.[1]?.toLowerCase() ?? '';
      if (!secretsEqual(hexHmac(secret, 'v0:', timestamp, ':', body), given)) {
        return { ok: false, reason: `X-Slack-Signature does not match "v0:<timestamp>:<body>" signed with this source's secret` };
      }
      const problem = timestampProblem('X-Slack-Request-Timestamp', timestamp, nowSeconds, toleranceSeconds);
      if (problem) return { ok: false, reason: problem };
      const json = jsonObject(body);
      const challenge = stringField(json, 'challenge');
      if (json?.type === 'url_verification' && challenge !== undefined) return { ok: true, answer: { challenge } };
      return verified(stringField(json, 'event_id'));
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
        const problem = timestampProblem(options.timestampHeader!, timestamp, nowSeconds, options.toleranceSeconds);
        if (problem) return { ok: false, reason: problem };
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
