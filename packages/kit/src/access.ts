/**
 * The sender gate: who may reach the session through a channel, which chats the agent may
 * answer, who may answer permission prompts, and the `/<plugin>:access` operations of the
 * terminal user. It never knows which platform it serves: a connector turns a platform message
 * into an `InboundMessage` and sends whatever text the gate asks it to send.
 *
 * State is `<state>/access.json` in the reference plugins' format (shared/spec/official-plugins.md
 * §0.3-0.5), so files written by the reference plugins and their skills keep working.
 */
import { randomBytes } from 'node:crypto';
import { type Dirent, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { ChunkMode } from './chunk.js';
import { type Log, createLog, errorText } from './log.js';
import { envPrefix, writeFileAtomic } from './state.js';

export type DmPolicy = 'pairing' | 'allowlist' | 'disabled';
export type ReplyToMode = 'off' | 'first' | 'all';

export interface GroupPolicy {
  requireMention: boolean;
  /** Members who may speak here; empty means every member. */
  allowFrom: string[];
}

export interface PendingPairing {
  senderId: string;
  /** The DM chat the code was issued in (on Discord a DM channel id, not the user id). */
  chatId: string;
  createdAt: number;
  expiresAt: number;
  /** Pairing replies sent for this code: the first one and at most one reminder. */
  replies: number;
}

/** The contents of access.json. */
export interface Access {
  dmPolicy: DmPolicy;
  allowFrom: string[];
  groups: Record<string, GroupPolicy>;
  pending: Record<string, PendingPairing>;
  mentionPatterns?: string[];
  ackReaction?: string;
  replyToMode?: ReplyToMode;
  textChunkLimit?: number;
  chunkMode?: ChunkMode;
  /** `off`: permission prompts are answered in the terminal only, none is sent to the platform. */
  permissionPrompts?: Toggle;
}

export type Toggle = 'on' | 'off';

/** A chat message as every platform can describe it. */
export interface InboundMessage {
  senderId: string;
  chatId: string;
  isDirect: boolean;
  /** The `groups` key of a non-direct chat; defaults to chatId (Discord threads pass the parent channel). */
  groupKey?: string;
  /** The platform saw an @mention of the bot or a reply to one of its messages. */
  mentioned: boolean;
  text?: string;
}

export type GateResult =
  /** Forward the message; `access` is the state it was admitted under (ackReaction etc.). */
  | { action: 'deliver'; access: Access }
  | { action: 'drop' }
  /** Do not forward; send `text` to the sender's DM instead. */
  | { action: 'pair'; code: string; text: string };

/** How the platform knows more about an outbound target than its chat id. */
export interface OutboundRoute {
  /** The user at the other end, when the chat is a DM whose id differs from the user id. */
  dmWith?: string;
  /** The `groups` key, when it differs from the chat id (a thread's parent channel). */
  groupKey?: string;
}

export type SendApproval = (senderId: string, chatId: string, text: string) => Promise<void> | void;

export interface AccessStoreOptions {
  /** The plugin name: `/<name>:access` in replies, `<NAME>_ACCESS_MODE` in the environment. */
  name: string;
  stateDir: string;
  /** The policy when access.json does not say: `pairing` for Telegram and Discord. */
  defaultDmPolicy: DmPolicy;
  log?: Log;
  env?: NodeJS.ProcessEnv;
  now?: () => number;
}

export const PAIRED_TEXT = 'Paired! Say hi to Claude.';
export const PAIRING_TTL_MS = 60 * 60 * 1000;
/** Caps that keep strangers from using the bot to spam the owner or themselves. */
const MAX_PENDING = 3;
const MAX_REPLIES = 2;

const DM_POLICIES: readonly DmPolicy[] = ['pairing', 'allowlist', 'disabled'];
const REPLY_TO_MODES: readonly ReplyToMode[] = ['off', 'first', 'all'];
const CHUNK_MODES: readonly ChunkMode[] = ['length', 'newline'];
const TOGGLES: readonly Toggle[] = ['on', 'off'];
const SETTINGS = ['ackReaction', 'replyToMode', 'textChunkLimit', 'chunkMode', 'mentionPatterns', 'permissionPrompts'] as const;

const DROP: GateResult = { action: 'drop' };

export class AccessStore {
  readonly name: string;
  readonly path: string;
  /** `<NAME>_ACCESS_MODE=static`: access.json read once at boot, never written by the gate. */
  readonly isStatic: boolean;
  private readonly stateDir: string;
  private readonly defaultDmPolicy: DmPolicy;
  private readonly log: Log;
  private readonly now: () => number;
  private readonly bootSnapshot: Access | undefined;

  constructor(options: AccessStoreOptions) {
    this.name = options.name;
    this.stateDir = options.stateDir;
    this.path = join(options.stateDir, 'access.json');
    this.defaultDmPolicy = options.defaultDmPolicy;
    this.log = options.log ?? createLog(options.name);
    this.now = options.now ?? Date.now;
    const env = options.env ?? process.env;
    this.isStatic = env[`${envPrefix(options.name)}_ACCESS_MODE`] === 'static';
    if (this.isStatic) {
      const access = this.readFile();
      // Nobody could approve a code: pairing would only answer strangers with dead ends.
      if (access.dmPolicy === 'pairing') {
        this.log('static mode — dmPolicy "pairing" downgraded to "allowlist"');
        access.dmPolicy = 'allowlist';
      }
      access.pending = {};
      this.bootSnapshot = access;
    }
  }

  /** The current access state: re-read from disk on every call, except in static mode. */
  load(): Access {
    return this.bootSnapshot ? structuredClone(this.bootSnapshot) : this.readFile();
  }

  /** Decides what happens to an inbound message, recording pairing state as it goes. */
  gate(message: InboundMessage): GateResult {
    const access = this.load();
    const now = this.now();
    if (pruneExpired(access, now)) this.save(access);
    if (access.dmPolicy === 'disabled') return DROP;
    if (message.isDirect) return this.gateDirect(access, message, now);
    return this.admitsGroupMessage(access, message) ? { action: 'deliver', access } : DROP;
  }

  /** Whether reply/react/edit may target this chat: only chats the inbound gate delivers from. */
  canSendTo(chatId: string, route: OutboundRoute = {}): boolean {
    return this.outboundRefusal(chatId, route) === null;
  }

  /** Throws the error a tool reports when the agent targets a chat it may not. */
  assertCanSendTo(chatId: string, route: OutboundRoute = {}): void {
    const refusal = this.outboundRefusal(chatId, route);
    if (refusal !== null) throw new Error(refusal);
  }

  /** Who receives permission prompts: the allowlisted senders, in their DMs; or why nobody does. */
  permissionRecipients(): { userIds: string[]; nobodyBecause?: string } {
    const access = this.load();
    if (access.permissionPrompts === 'off') return { userIds: [], nobodyBecause: 'permissionPrompts is off' };
    if (access.dmPolicy === 'disabled') return { userIds: [], nobodyBecause: 'dmPolicy is "disabled"' };
    if (access.allowFrom.length === 0) return { userIds: [], nobodyBecause: 'nobody is allowlisted' };
    return { userIds: access.allowFrom };
  }

  /**
   * Whether a sender's verdict on a permission prompt counts. Only allowlisted senders in a
   * direct chat: the reference also took verdicts typed in admitted groups, whose members need
   * not be allowlisted, which let them approve tool calls.
   */
  mayAnswerPermission(senderId: string, isDirect: boolean): boolean {
    const access = this.load();
    return isDirect && access.dmPolicy !== 'disabled' && access.allowFrom.includes(senderId);
  }

  /**
   * One pass over `<state>/approved/`: for each `<senderId>` file written by `pair`, sends
   * PAIRED_TEXT to the chat named in the file and deletes the file, even when sending failed
   * (a broken send must not repeat every pass). An empty or unreadable file is deleted unsent.
   */
  async deliverApprovals(send: SendApproval): Promise<void> {
    if (this.isStatic) return;
    const dir = join(this.stateDir, 'approved');
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.log(`could not read ${dir}: ${errorText(err)}`);
      return;
    }
    for (const entry of entries) {
      // `<id>.tmp` is an approval still being written (see writeFileAtomic).
      if (!entry.isFile() || entry.name.endsWith('.tmp')) continue;
      const file = join(dir, entry.name);
      try {
        const chatId = readFileSync(file, 'utf8').trim();
        if (chatId) await send(entry.name, chatId, PAIRED_TEXT);
      } catch (err) {
        this.log(`could not confirm the pairing of ${entry.name}: ${errorText(err)}`);
      } finally {
        rmSync(file, { force: true });
      }
    }
  }

  /** Runs `deliverApprovals` every `intervalMs` until the returned function is called. */
  startApprovalPoller(send: SendApproval, intervalMs = 5000): () => void {
    if (this.isStatic) return () => {};
    let busy = false;
    const timer = setInterval(() => {
      // A send slower than the interval must not let a second pass confirm the same file twice.
      if (busy) return;
      busy = true;
      this.deliverApprovals(send)
        .catch((err) => this.log(`approval poll failed: ${errorText(err)}`))
        .finally(() => {
          busy = false;
        });
    }, intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }

  // The terminal user's `/<plugin>:access` operations. Each reads access.json fresh and writes
  // it back, as the reference skill does. They edit the file even when this process is in
  // static mode: that is the user changing the file, which a static server picks up at restart.

  /** Approves a pending code: allowlists the sender and leaves `approved/<senderId>` for the poller. */
  pair(code: string): PendingPairing {
    const key = code.trim().toLowerCase();
    const entry = this.edit((access) => {
      const pending = Object.hasOwn(access.pending, key) ? access.pending[key] : undefined;
      if (!pending) throw new Error(`no pending pairing with code ${JSON.stringify(code)}`);
      if (pending.expiresAt < this.now()) {
        throw new Error(`pairing code ${key} has expired; the sender gets a new code by messaging again`);
      }
      // The sender id becomes a file name; an id that is not a plain name must not escape approved/.
      if (!pending.senderId || basename(pending.senderId) !== pending.senderId || pending.senderId.startsWith('.')) {
        throw new Error(`cannot pair sender id ${JSON.stringify(pending.senderId)}: it is not usable as a file name`);
      }
      if (!access.allowFrom.includes(pending.senderId)) access.allowFrom.push(pending.senderId);
      delete access.pending[key];
      return pending;
    });
    writeFileAtomic(join(this.stateDir, 'approved', entry.senderId), entry.chatId);
    return entry;
  }

  /** Drops a pending code without telling the sender. */
  deny(code: string): PendingPairing {
    const key = code.trim().toLowerCase();
    return this.edit((access) => {
      const pending = Object.hasOwn(access.pending, key) ? access.pending[key] : undefined;
      if (!pending) throw new Error(`no pending pairing with code ${JSON.stringify(code)}`);
      delete access.pending[key];
      return pending;
    });
  }

  /** Allowlists a sender id; false when it already was. */
  allow(senderId: string): boolean {
    const id = requireText(senderId, 'a sender id');
    return this.edit((access) => {
      if (access.allowFrom.includes(id)) return false;
      access.allowFrom.push(id);
      return true;
    });
  }

  /** Removes a sender id from the allowlist; false when it was not there. */
  remove(senderId: string): boolean {
    const id = senderId.trim();
    return this.edit((access) => {
      const before = access.allowFrom.length;
      access.allowFrom = access.allowFrom.filter((allowed) => allowed !== id);
      return access.allowFrom.length !== before;
    });
  }

  setPolicy(mode: string): void {
    const policy = choose(DM_POLICIES, mode.trim(), 'policy');
    this.edit((access) => {
      access.dmPolicy = policy;
    });
  }

  /** Admits a group (or channel); mentions are required unless said otherwise. */
  addGroup(groupKey: string, options: { requireMention?: boolean; allowFrom?: string[] } = {}): void {
    const key = requireText(groupKey, 'a group key');
    const group: GroupPolicy = {
      requireMention: options.requireMention ?? true,
      allowFrom: [...new Set(options.allowFrom ?? [])],
    };
    this.edit((access) => {
      // A computed key defines an own property even for "__proto__".
      access.groups = { ...access.groups, [key]: group };
    });
  }

  /** Removes a group; false when it was not configured. */
  removeGroup(groupKey: string): boolean {
    const key = groupKey.trim();
    return this.edit((access) => {
      if (!Object.hasOwn(access.groups, key)) return false;
      delete access.groups[key];
      return true;
    });
  }

  /**
   * `set <key> <value>` with the value as typed on a command line: ackReaction (an emoji, or
   * `""` to turn it off), replyToMode, textChunkLimit, chunkMode, mentionPatterns (a JSON array),
   * permissionPrompts (on, off).
   */
  set(key: string, value: string): void {
    const patch = parseSetting(key, value);
    this.edit((access) => {
      Object.assign(access, patch);
    });
  }

  /** A human-readable summary of access.json as it is on disk. */
  status(): string {
    const access = this.readFile();
    const now = this.now();
    const pending = Object.entries(access.pending);
    const groups = Object.entries(access.groups);
    const lines = [
      `dmPolicy: ${access.dmPolicy}`,
      `allowFrom (${access.allowFrom.length}): ${access.allowFrom.join(', ') || '(none)'}`,
      `pending (${pending.length})${pending.length ? ':' : ''}`,
      ...pending.map(
        ([code, entry]) =>
          `  ${code}  sender ${entry.senderId}  ${Math.max(0, Math.round((now - entry.createdAt) / 60_000))} min ago`,
      ),
      `groups (${groups.length})${groups.length ? ':' : ''}`,
      ...groups.map(
        ([key, group]) =>
          `  ${key}  ${group.requireMention ? 'mention required' : 'no mention needed'}` +
          `  ${group.allowFrom.length ? `members: ${group.allowFrom.join(', ')}` : 'any member'}`,
      ),
    ];
    for (const setting of SETTINGS) {
      if (access[setting] !== undefined) lines.push(`${setting}: ${JSON.stringify(access[setting])}`);
    }
    return lines.join('\n');
  }

  private gateDirect(access: Access, message: InboundMessage, now: number): GateResult {
    if (access.allowFrom.includes(message.senderId)) return { action: 'deliver', access };
    if (access.dmPolicy === 'allowlist') return DROP;
    const existing = Object.entries(access.pending).find(([, entry]) => entry.senderId === message.senderId);
    if (existing) {
      const [code, entry] = existing;
      if (entry.replies >= MAX_REPLIES) return DROP;
      entry.replies += 1;
      this.save(access);
      return { action: 'pair', code, text: this.pairingText('Still pending', code) };
    }
    if (Object.keys(access.pending).length >= MAX_PENDING) return DROP;
    let code: string;
    do {
      code = randomBytes(3).toString('hex');
    } while (Object.hasOwn(access.pending, code));
    access.pending[code] = {
      senderId: message.senderId,
      chatId: message.chatId,
      createdAt: now,
      expiresAt: now + PAIRING_TTL_MS,
      replies: 1,
    };
    this.save(access);
    return { action: 'pair', code, text: this.pairingText('Pairing required', code) };
  }

  /** Groups are opted in one by one and never start pairing. */
  private admitsGroupMessage(access: Access, message: InboundMessage): boolean {
    const key = message.groupKey ?? message.chatId;
    // hasOwn: a chat id such as "constructor" must not find Object.prototype's members.
    if (!Object.hasOwn(access.groups, key)) return false;
    const group = access.groups[key]!;
    if (group.allowFrom.length > 0 && !group.allowFrom.includes(message.senderId)) return false;
    if (!group.requireMention || message.mentioned) return true;
    const text = message.text ?? '';
    return (access.mentionPatterns ?? []).some((pattern) => {
      try {
        return new RegExp(pattern, 'i').test(text);
      } catch {
        this.log(`ignoring invalid mentionPatterns entry ${JSON.stringify(pattern)}`);
        return false;
      }
    });
  }

  private outboundRefusal(chatId: string, route: OutboundRoute): string | null {
    const access = this.load();
    // Disabled turns the channel off in both directions, as the inbound gate delivers nothing.
    if (access.dmPolicy === 'disabled') {
      return `chat ${chatId} is not reachable: dmPolicy is "disabled" — change via /${this.name}:access policy`;
    }
    // A DM chat id equals the user id on Telegram; other platforms say whom the DM is with.
    if (access.allowFrom.includes(chatId)) return null;
    if (route.dmWith !== undefined && access.allowFrom.includes(route.dmWith)) return null;
    if (Object.hasOwn(access.groups, route.groupKey ?? chatId)) return null;
    return `chat ${chatId} is not allowlisted — add via /${this.name}:access`;
  }

  private pairingText(status: string, code: string): string {
    return `${status} — run in Claude Code:\n\n/${this.name}:access pair ${code}`;
  }

  /** The gate's own writes; static mode never writes. */
  private save(access: Access): void {
    if (!this.isStatic) writeAccess(this.path, access);
  }

  private edit<T>(change: (access: Access) => T): T {
    const access = this.readFile();
    const result = change(access);
    writeAccess(this.path, access);
    return result;
  }

  /**
   * Reads access.json. A missing file means the defaults. A file that cannot be read or parsed,
   * or whose top level or allowFrom has the wrong shape, is renamed to
   * `access.json.corrupt-<ms>` (kept for the user to inspect) and the defaults apply; nothing is
   * written until the next save.
   */
  private readFile(): Access {
    try {
      // A byte-order mark left by an editor is not worth losing the file over.
      const raw: unknown = JSON.parse(readFileSync(this.path, 'utf8').replace(/^\uFEFF/, ''));
      return parseAccess(raw, this.defaultDmPolicy, this.log);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.moveAside(errorText(err));
      return { dmPolicy: this.defaultDmPolicy, allowFrom: [], groups: {}, pending: {} };
    }
  }

  private moveAside(reason: string): void {
    const aside = `${this.path}.corrupt-${this.now()}`;
    try {
      renameSync(this.path, aside);
      this.log(`${this.path} is unusable (${reason}); moved aside to ${aside}; using defaults`);
    } catch (err) {
      this.log(`${this.path} is unusable (${reason}) and could not be moved aside (${errorText(err)}); using defaults`);
    }
  }
}

function writeAccess(path: string, access: Access): void {
  writeFileAtomic(path, `${JSON.stringify(access, null, 2)}\n`);
}

function pruneExpired(access: Access, now: number): boolean {
  let removed = false;
  for (const [code, entry] of Object.entries(access.pending)) {
    if (entry.expiresAt < now) {
      delete access.pending[code];
      removed = true;
    }
  }
  return removed;
}

/**
 * Rebuilds Access from parsed JSON, keeping only known keys so the next save drops the rest.
 * Only a wrong top level or a wrong allowFrom condemns the whole file; any other wrong field is
 * logged and replaced, failing closed where it guards access:
 * - dmPolicy not one of the three: `allowlist` (a typo must not open pairing to strangers);
 * - a non-string allowFrom entry: left out;
 * - groups or pending not an object: empty;
 * - a group that is not an object, or whose allowFrom is not a list of strings: left out (an
 *   emptied list would admit every member); requireMention not a boolean: true;
 * - a pending entry without string ids and numeric times: left out; replies absent or not a
 *   number: 1;
 * - an optional setting of the wrong type or value: left out, so its default applies.
 */
function parseAccess(raw: unknown, defaultDmPolicy: DmPolicy, log: Log): Access {
  if (!isRecord(raw)) throw new Error('access.json does not hold a JSON object');
  if (raw.allowFrom !== undefined && !Array.isArray(raw.allowFrom)) throw new Error('allowFrom is not a list');
  const ignore = (what: string, value: unknown, instead: string) =>
    log(`access.json: ignoring ${what} ${JSON.stringify(value)}; ${instead}`);

  let dmPolicy = defaultDmPolicy;
  if (raw.dmPolicy !== undefined) {
    dmPolicy = isOneOf(DM_POLICIES, raw.dmPolicy) ? raw.dmPolicy : 'allowlist';
    if (dmPolicy !== raw.dmPolicy) ignore('dmPolicy', raw.dmPolicy, 'using "allowlist"');
  }

  const allowFrom: string[] = [];
  for (const id of (raw.allowFrom ?? []) as unknown[]) {
    if (typeof id === 'string') allowFrom.push(id);
    else ignore('allowFrom entry', id, 'ids are strings');
  }

  const groups: Array<[string, GroupPolicy]> = [];
  for (const [key, group] of Object.entries(recordField(raw, 'groups', ignore))) {
    if (!isRecord(group) || (group.allowFrom !== undefined && !isStringArray(group.allowFrom))) {
      ignore(`group ${key}`, group, 'it needs {requireMention, allowFrom: [ids]}');
      continue;
    }
    let requireMention = true;
    if (typeof group.requireMention === 'boolean') requireMention = group.requireMention;
    else if (group.requireMention !== undefined) {
      ignore(`requireMention of group ${key}`, group.requireMention, 'using true');
    }
    groups.push([key, { requireMention, allowFrom: group.allowFrom ?? [] }]);
  }

  const pending: Array<[string, PendingPairing]> = [];
  for (const [code, entry] of Object.entries(recordField(raw, 'pending', ignore))) {
    if (
      !isRecord(entry) ||
      typeof entry.senderId !== 'string' ||
      typeof entry.chatId !== 'string' ||
      typeof entry.createdAt !== 'number' ||
      typeof entry.expiresAt !== 'number'
    ) {
      ignore(`pending code ${code}`, entry, 'it needs senderId, chatId, createdAt, expiresAt');
      continue;
    }
    const { senderId, chatId, createdAt, expiresAt } = entry;
    const replies = typeof entry.replies === 'number' ? entry.replies : 1;
    pending.push([code, { senderId, chatId, createdAt, expiresAt, replies }]);
  }

  // fromEntries defines own properties, so a key such as "__proto__" stays data.
  const access: Access = {
    dmPolicy,
    allowFrom,
    groups: Object.fromEntries(groups),
    pending: Object.fromEntries(pending),
  };
  for (const setting of SETTINGS) {
    if (raw[setting] === undefined) continue;
    try {
      Object.assign(access, checkSetting(setting, raw[setting]));
    } catch (err) {
      ignore(setting, raw[setting], `${errorText(err)}; using the default`);
    }
  }
  return access;
}

function recordField(
  raw: Record<string, unknown>,
  key: string,
  ignore: (what: string, value: unknown, instead: string) => void,
): Record<string, unknown> {
  const value = raw[key];
  if (value === undefined) return {};
  if (isRecord(value)) return value;
  ignore(key, value, 'it must be an object');
  return {};
}

/** Validates a setting's value as JSON holds it; throws a message naming what is expected. */
function checkSetting(key: (typeof SETTINGS)[number], value: unknown): Partial<Access> {
  switch (key) {
    case 'ackReaction':
      if (typeof value !== 'string') throw new Error('ackReaction must be a string');
      return { ackReaction: value };
    case 'replyToMode':
      return { replyToMode: choose(REPLY_TO_MODES, value, 'replyToMode') };
    case 'chunkMode':
      return { chunkMode: choose(CHUNK_MODES, value, 'chunkMode') };
    case 'permissionPrompts':
      return { permissionPrompts: choose(TOGGLES, value, 'permissionPrompts') };
    case 'textChunkLimit':
      // Any number loads: the platform clamps it (effectiveChunkLimit), as the reference does.
      if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error('textChunkLimit must be a number');
      return { textChunkLimit: value };
    case 'mentionPatterns':
      if (!isStringArray(value)) throw new Error('mentionPatterns must be a list of regular expressions');
      return { mentionPatterns: value };
  }
}

/** `set <key> <value>`: the command-line value parsed into its JSON type, then checked. */
function parseSetting(key: string, value: string): Partial<Access> {
  if (!isOneOf(SETTINGS, key)) {
    throw new Error(`unknown setting ${JSON.stringify(key)}: expected ${SETTINGS.join(', ')}`);
  }
  switch (key) {
    case 'ackReaction':
      // `set ackReaction ""` may arrive with its quotes intact; either way it turns reactions off.
      return checkSetting(key, value === '""' ? '' : value);
    case 'textChunkLimit': {
      const limit = value.trim() === '' ? NaN : Number(value);
      if (!Number.isInteger(limit) || limit < 1) throw new Error('textChunkLimit must be a whole number of at least 1');
      return { textChunkLimit: limit };
    }
    case 'mentionPatterns': {
      let patterns: unknown;
      try {
        patterns = JSON.parse(value);
      } catch {
        throw new Error('mentionPatterns must be a JSON array of strings, e.g. ["^claude\\\\b"]');
      }
      const checked = checkSetting(key, patterns);
      for (const pattern of checked.mentionPatterns!) {
        try {
          new RegExp(pattern, 'i');
        } catch (err) {
          throw new Error(`mentionPatterns: ${errorText(err)}`);
        }
      }
      return checked;
    }
    default:
      return checkSetting(key, value.trim());
  }
}

function choose<T extends string>(options: readonly T[], value: unknown, what: string): T {
  if (isOneOf(options, value)) return value;
  throw new Error(`invalid ${what} ${JSON.stringify(value)}: expected ${options.join(', ')}`);
}

function isOneOf<T extends string>(options: readonly T[], value: unknown): value is T {
  return (options as readonly unknown[]).includes(value);
}

function requireText(value: string, what: string): string {
  const text = value.trim();
  if (!text) throw new Error(`${what} is required`);
  return text;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}
