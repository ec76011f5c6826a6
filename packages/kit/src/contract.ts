/**
 * The vocabulary of the channel contract (see shared/spec/channel-contract.md), shared by
 * channel servers and hosts. Every rule of the wire format has its one home here.
 */
import { z } from 'zod';

export const CHANNEL_CAPABILITY = 'claude/channel';
export const PERMISSION_CAPABILITY = 'claude/channel/permission';

export const EVENT_METHOD = 'notifications/claude/channel';
export const PERMISSION_REQUEST_METHOD = 'notifications/claude/channel/permission_request';
export const PERMISSION_VERDICT_METHOD = 'notifications/claude/channel/permission';

/** Meta keys a host keeps; any other key is dropped by the host. */
export const META_KEY_PATTERN = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * A meta key is usable when it is an identifier and not `source`: the host writes `source`
 * itself, so a meta key of that name would produce a duplicate attribute.
 */
export function isUsableMetaKey(key: string): boolean {
  return META_KEY_PATTERN.test(key) && key !== 'source';
}

/** Permission request ids: five letters from a-z without `l`, which reads as 1 or I on a phone. */
export const REQUEST_ID_ALPHABET = 'abcdefghijkmnopqrstuvwxyz';
export const REQUEST_ID_PATTERN = /^[a-km-z]{5}$/;

/** A text verdict: `yes abcde`, `n abcde`, any case, surrounding whitespace allowed. */
export const VERDICT_PATTERN = /^\s*(y|yes|n|no)\s+([a-km-z]{5})\s*$/i;

export type Behavior = 'allow' | 'deny';

export const permissionRequestSchema = z.object({
  request_id: z.string(),
  tool_name: z.string(),
  description: z.string(),
  input_preview: z.string(),
});
export type PermissionRequest = z.infer<typeof permissionRequestSchema>;

export const verdictSchema = z.object({
  request_id: z.string(),
  behavior: z.enum(['allow', 'deny']),
});
export type Verdict = z.infer<typeof verdictSchema>;

export const eventSchema = z.object({
  content: z.string(),
  meta: z.record(z.string(), z.string()).optional(),
});
export type ChannelEvent = z.infer<typeof eventSchema>;

/** Notification schemas with literal methods, as the MCP SDK's handler registry requires. */
export const permissionRequestNotification = z.object({
  method: z.literal(PERMISSION_REQUEST_METHOD),
  params: permissionRequestSchema,
});
export const verdictNotification = z.object({
  method: z.literal(PERMISSION_VERDICT_METHOD),
  params: verdictSchema,
});
export const eventNotification = z.object({
  method: z.literal(EVENT_METHOD),
  params: eventSchema,
});

/** Reads a chat message as a permission verdict, or returns null when it is ordinary chat. */
export function parseVerdict(text: string): Verdict | null {
  const match = VERDICT_PATTERN.exec(text);
  if (!match) return null;
  const verb = match[1]!.toLowerCase();
  return { request_id: match[2]!.toLowerCase(), behavior: verb.startsWith('y') ? 'allow' : 'deny' };
}

/** The JSON of a tool call's arguments, cut to 200 characters with an ellipsis, as hosts send it. */
export function inputPreview(input: unknown): string {
  const json = JSON.stringify(input) ?? '';
  return json.length > 200 ? `${json.slice(0, 200)}…` : json;
}
