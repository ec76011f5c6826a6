/**
 * The conversation the page shows, and the WebSocket frames it travels in. The server keeps it
 * (bounded) so a reload or a second tab sees the same thing; history items have the same shape
 * as the live frames that created them, so the page renders both with one function.
 */
import { type PermissionRequest, REQUEST_ID_PATTERN } from '@openchannels/kit';
import { z } from 'zod';

export interface Attachment {
  /** The name to show and to download as. */
  name: string;
  size: number;
  /** Where the page downloads it; absent for uploads, which stay in the inbox. */
  url?: string;
}

export interface MessageItem {
  type: 'msg';
  id: string;
  from: 'user' | 'assistant';
  text: string;
  /** Epoch milliseconds. */
  ts: number;
  replyTo?: string;
  files: Attachment[];
  edited?: true;
  /** A typed `yes <id>` / `no <id>`: the permission request it answered (not sent to the agent). */
  answers?: string;
}

export type PermissionState = 'open' | 'allowed' | 'denied';

export interface PermissionItem extends PermissionRequest {
  type: 'permission';
  ts: number;
  state: PermissionState;
}

export type ChatItem = MessageItem | PermissionItem;

/** Server → page. A `permission` frame is sent again, whole, when its state changes. */
export type ServerFrame = ChatItem | { type: 'history'; items: readonly ChatItem[] } | { type: 'edit'; id: string; text: string };

/** Ids the page chooses for its messages (`u<ms>-<n>`): they end up in the event's meta. */
export const MESSAGE_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

const pageFrameSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('send'), id: z.string().regex(MESSAGE_ID_PATTERN), text: z.string() }),
  z.object({
    type: z.literal('verdict'),
    request_id: z.string().regex(REQUEST_ID_PATTERN),
    behavior: z.enum(['allow', 'deny']),
  }),
]);

/** Page → server. */
export type PageFrame = z.infer<typeof pageFrameSchema>;

/**
 * Reads a frame from a page; returns why it is unusable instead. A frame without a type is a
 * message, as the reference fakechat page sends them (`{id, text}`).
 */
export function parsePageFrame(data: string): PageFrame | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return { error: 'not JSON' };
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && !('type' in value)) {
    value = { ...value, type: 'send' };
  }
  const parsed = pageFrameSchema.safeParse(value);
  if (!parsed.success) return { error: parsed.error.issues.map((i) => `${i.path.join('.') || 'frame'}: ${i.message}`).join('; ') };
  return parsed.data;
}

export class Conversation {
  private readonly items: ChatItem[] = [];

  constructor(private readonly limit: number) {}

  /** Everything kept, oldest first. */
  get snapshot(): readonly ChatItem[] {
    return this.items;
  }

  add(item: ChatItem): void {
    this.items.push(item);
    if (this.items.length > this.limit) this.items.splice(0, this.items.length - this.limit);
  }

  message(id: string, from: MessageItem['from']): MessageItem | undefined {
    return this.items.find((item): item is MessageItem => item.type === 'msg' && item.id === id && item.from === from);
  }

  permission(requestId: string): PermissionItem | undefined {
    return this.items.find((item): item is PermissionItem => item.type === 'permission' && item.request_id === requestId);
  }

  /** The name an outbox file was sent under, while its message is still in the history. */
  attachmentName(url: string): string | undefined {
    for (const item of this.items) {
      if (item.type !== 'msg') continue;
      const file = item.files.find((f) => f.url === url);
      if (file) return file.name;
    }
    return undefined;
  }
}
