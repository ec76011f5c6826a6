/** Splits long replies into platform-sized messages. */
export type ChunkMode = 'length' | 'newline';

/**
 * `length` cuts at exactly `limit` characters. `newline` prefers, within the last half of the
 * window, a blank line, then a line break, then a space. Line breaks that begin the next chunk
 * are dropped. An empty text is one empty chunk.
 */
export function chunkText(text: string, limit: number, mode: ChunkMode = 'length'): string[] {
  const size = Math.max(1, Math.floor(limit));
  const chunks: string[] = [];
  let rest = text;
  while (rest.length > size) {
    const cut = mode === 'newline' ? newlineCut(rest, size) : size;
    chunks.push(rest.slice(0, cut));
    rest = rest.slice(cut).replace(/^\n+/, '');
  }
  chunks.push(rest);
  return chunks;
}

function newlineCut(text: string, limit: number): number {
  const window = text.slice(0, limit);
  const paragraph = window.lastIndexOf('\n\n');
  if (paragraph > limit / 2) return paragraph;
  const line = window.lastIndexOf('\n');
  if (line > limit / 2) return line;
  const space = window.lastIndexOf(' ');
  if (space > 0) return space;
  return limit;
}

/** Clamps a configured chunk limit to what the platform allows. */
export function effectiveChunkLimit(configured: number | undefined, platformMax: number): number {
  if (configured === undefined || !Number.isFinite(configured)) return platformMax;
  return Math.min(platformMax, Math.max(1, Math.floor(configured)));
}
