/**
 * `<state>/webhook.json`: the named sources (a path each, and how its senders prove who they
 * are), the body limit, and the extra Host names to admit. The file is optional; when it exists
 * it is a security configuration and fails closed: any problem stops the server with a message
 * naming the file and the field. Secrets never live in it, only the names of the variables
 * (process environment or `<state>/.env`) that hold them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { type Verifier, bearerVerifier, githubVerifier, hmacVerifier, slackVerifier, stripeVerifier } from './verify.js';

const CONFIG_FILE = 'webhook.json';
export const EVENTS_PATH = '/events';
const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
const DEFAULT_TOLERANCE_SECONDS = 300;

const SOURCE_NAME = /^[A-Za-z0-9_-]+$/;

const variableName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name (letters, digits, underscore)');
const headerName = z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'must be an HTTP header name');
const toleranceSeconds = z.number().int().min(1).max(86_400);

const verifySchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('github'), secretEnv: variableName }),
  z.strictObject({ type: z.literal('stripe'), secretEnv: variableName, toleranceSeconds: toleranceSeconds.optional() }),
  z.strictObject({ type: z.literal('slack'), secretEnv: variableName, toleranceSeconds: toleranceSeconds.optional() }),
  z.strictObject({
    type: z.literal('hmac-sha256'),
    header: headerName,
    secretEnv: variableName,
    timestampHeader: headerName.optional(),
    toleranceSeconds: toleranceSeconds.optional(),
    deliveryHeader: headerName.optional(),
  }),
  z.strictObject({ type: z.literal('bearer'), tokenEnv: variableName }),
]);

const configSchema = z.strictObject({
  maxBodyBytes: z.number().int().min(1).max(64 * 1024 * 1024).optional(),
  allowedHosts: z.array(z.string().min(1)).optional(),
  requireVerification: z.boolean().optional(),
  sources: z
    .record(
      z.string(),
      z.strictObject({
        path: z.string().regex(/^\/[^\s?#]*$/, 'must start with / and contain no spaces, ? or #'),
        verify: verifySchema.optional(),
      }),
    )
    .optional(),
});

type VerifySpec = z.infer<typeof verifySchema>;

export interface Source {
  name: string;
  path: string;
  /** Absent for a source that only names a path (its events carry `hook`) without checking senders. */
  verifier?: Verifier;
}

export interface WebhookConfig {
  maxBodyBytes: number;
  allowedHosts: string[];
  requireVerification: boolean;
  /** Longest path first, so the most specific source wins. */
  sources: Source[];
}

export class ConfigError extends Error {}

/** Reads `<state>/webhook.json`; no file means no named sources. `setting` looks up secrets. */
export function loadConfig(stateDir: string, setting: (name: string) => string | undefined): WebhookConfig {
  const file = join(stateDir, CONFIG_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return parseConfig('{}', file, setting);
    throw new ConfigError(`cannot read ${file}: ${(err as Error).message}`);
  }
  return parseConfig(text, file, setting);
}

export function parseConfig(text: string, file: string, setting: (name: string) => string | undefined): WebhookConfig {
  let data: unknown;
  try {
    data = JSON.parse(text.replace(/^\uFEFF/, '')); // editors on Windows save a byte-order mark
  } catch (err) {
    throw new ConfigError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  const parsed = configSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`invalid ${file}: ${fieldName(issue.path)}: ${issue.message}`);
  }
  const { maxBodyBytes, allowedHosts, requireVerification = false, sources = {} } = parsed.data;
  const invalid = (field: string, problem: string) => new ConfigError(`invalid ${file}: ${field}: ${problem}`);

  const byPath = new Map<string, string>();
  const resolved: Source[] = [];
  for (const [name, source] of Object.entries(sources)) {
    // Checked here rather than in the schema, whose message for a bad record key names no rule.
    if (!SOURCE_NAME.test(name)) throw invalid(`sources.${name}`, 'source names use letters, digits, _ and -');
    const path = source.path.length > 1 ? source.path.replace(/\/+$/, '') : source.path;
    if (path === EVENTS_PATH || path.startsWith(`${EVENTS_PATH}/`)) {
      throw invalid(`sources.${name}.path`, `${EVENTS_PATH} is the outbound stream and cannot be a source`);
    }
    const other = byPath.get(path);
    if (other) throw invalid(`sources.${name}.path`, `${path} is already the path of source "${other}"`);
    byPath.set(path, name);
    if (!source.verify && requireVerification) {
      throw invalid(`sources.${name}.verify`, 'required because requireVerification is true');
    }
    const verifier = source.verify && createVerifier(source.verify, `sources.${name}.verify`, setting, invalid);
    resolved.push({ name, path, verifier });
  }
  resolved.sort((a, b) => b.path.length - a.path.length);
  return {
    maxBodyBytes: maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    allowedHosts: allowedHosts ?? [],
    requireVerification,
    sources: resolved,
  };
}

function createVerifier(
  spec: VerifySpec,
  field: string,
  setting: (name: string) => string | undefined,
  invalid: (field: string, problem: string) => ConfigError,
): Verifier {
  const secret = (variableField: string, variable: string) => {
    const value = setting(variable);
    if (value === undefined) {
      const problem = `${variable} is not set; set it in the environment or in the .env file beside webhook.json`;
      throw invalid(`${field}.${variableField}`, problem);
    }
    return value;
  };
  switch (spec.type) {
    case 'github':
      return githubVerifier(secret('secretEnv', spec.secretEnv));
    case 'stripe':
      return stripeVerifier(secret('secretEnv', spec.secretEnv), spec.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS);
    case 'slack':
      return slackVerifier(secret('secretEnv', spec.secretEnv), spec.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS);
    case 'bearer':
      return bearerVerifier(secret('tokenEnv', spec.tokenEnv));
    case 'hmac-sha256':
      if (spec.toleranceSeconds !== undefined && spec.timestampHeader === undefined) {
        throw invalid(`${field}.toleranceSeconds`, 'only applies with timestampHeader, which is not set');
      }
      return hmacVerifier({
        secret: secret('secretEnv', spec.secretEnv),
        header: spec.header,
        timestampHeader: spec.timestampHeader,
        toleranceSeconds: spec.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS,
        deliveryHeader: spec.deliveryHeader,
      });
  }
}

function fieldName(path: readonly PropertyKey[]): string {
  return path.length ? path.map(String).join('.') : '(top level)';
}

/** The named source a request path belongs to: its own path or anything below it. */
export function sourceForPath(config: WebhookConfig, path: string): Source | undefined {
  return config.sources.find(
    (source) => source.path === '/' || path === source.path || path.startsWith(`${source.path}/`),
  );
}
