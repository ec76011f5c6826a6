/** How an event is shown to an agent: the `<channel>` tag, with the host's rules applied. */
import { isUsableMetaKey } from '@openchannels/kit';

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

function escapeAttribute(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

/**
 * Renders `<channel source="NAME" key="value" ...>` + content + `</channel>`. Meta keys that are
 * not identifiers (and `source`, which the host owns) are dropped; attribute values are
 * escaped; `</channel` inside the content is defused so the content cannot close the tag.
 */
export function renderChannelTag(source: string, content: string, meta: Record<string, string> = {}): string {
  const attributes = [`source="${escapeAttribute(source)}"`];
  for (const [key, value] of Object.entries(meta)) {
    if (isUsableMetaKey(key)) attributes.push(`${key}="${escapeAttribute(value)}"`);
  }
  const body = content.replace(/<\/(channel)/gi, '<\\/$1');
  return `<channel ${attributes.join(' ')}>\n${body}\n</channel>`;
}
