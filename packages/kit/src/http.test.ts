import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { test } from 'node:test';
import { parsePort, refuseForeignRequest, secretsEqual } from './http.js';

/** Only the headers matter to the guard. */
function request(headers: Record<string, string>): IncomingMessage {
  return { headers } as unknown as IncomingMessage;
}

test('secretsEqual compares content and length', () => {
  assert.equal(secretsEqual('s3cret', 's3cret'), true);
  assert.equal(secretsEqual('s3cret', 's3creT'), false);
  assert.equal(secretsEqual('s3cret', 's3cret!'), false);
  assert.equal(secretsEqual('s3cret!', 's3cret'), false);
  assert.equal(secretsEqual('', 'x'), false);
  assert.equal(secretsEqual('', ''), true);
  assert.equal(secretsEqual(Buffer.from('abc'), 'abc'), true);
});

test('parsePort accepts 0-65535 and falls back when unset', () => {
  assert.equal(parsePort(undefined, 8787, 'FAKECHAT_PORT'), 8787);
  assert.equal(parsePort('', 8787, 'FAKECHAT_PORT'), 8787);
  assert.equal(parsePort('9000', 8787, 'FAKECHAT_PORT'), 9000);
  assert.equal(parsePort('0', 8787, 'FAKECHAT_PORT'), 0);
  for (const bad of ['abc', '-1', '65536', '80.5', '8080x', '0x50', '1e3']) {
    assert.throws(() => parsePort(bad, 8787, 'FAKECHAT_PORT'), {
      message: `FAKECHAT_PORT=${JSON.stringify(bad)} is not a port number (0-65535)`,
    });
  }
});

test('requests naming this loopback server are let through', () => {
  for (const host of ['127.0.0.1:8787', 'localhost:8787', 'LOCALHOST:8787', '[::1]:8787']) {
    assert.equal(refuseForeignRequest(request({ host }), { port: 8787 }), null, host);
  }
});

test('a foreign or rebinding Host is refused', () => {
  for (const host of ['evil.com:8787', 'evil.com', '127.0.0.1:9999', 'localhost', '']) {
    assert.match(refuseForeignRequest(request({ host }), { port: 8787 }) ?? 'allowed', /^forbidden: Host/, host);
  }
  const headerless = { headers: {} } as unknown as IncomingMessage;
  assert.match(refuseForeignRequest(headerless, { port: 8787 }) ?? 'allowed', /^forbidden: Host/);
});

test('extra allowed hosts are admitted, case-insensitively', () => {
  const options = { port: 8787, allowedHosts: ['Tunnel.Example.com'] };
  assert.equal(refuseForeignRequest(request({ host: 'tunnel.example.com' }), options), null);
  assert.match(refuseForeignRequest(request({ host: 'other.example.com' }), options) ?? 'allowed', /^forbidden/);
});

test('a request from a web page is refused unless it is our own page and that is allowed', () => {
  const host = '127.0.0.1:8787';
  const foreign = request({ host, origin: 'https://evil.com' });
  assert.match(
    refuseForeignRequest(foreign, { port: 8787, allowSameOrigin: true }) ?? 'allowed',
    /^forbidden: requests from web pages/,
  );
  const ownPage = request({ host, origin: 'http://127.0.0.1:8787' });
  assert.equal(refuseForeignRequest(ownPage, { port: 8787, allowSameOrigin: true }), null);
  assert.match(refuseForeignRequest(ownPage, { port: 8787 }) ?? 'allowed', /^forbidden: requests from web pages/);
  const otherPort = request({ host, origin: 'http://localhost:3000' });
  assert.match(refuseForeignRequest(otherPort, { port: 8787, allowSameOrigin: true }) ?? 'allowed', /^forbidden/);
  assert.equal(refuseForeignRequest(request({ host }), { port: 8787 }), null, 'no Origin: not a browser page');
});
