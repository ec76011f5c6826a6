/** Newline-delimited JSON over a stream: how local processes of openchannels talk to each other. */
export function onJsonLines(
  stream: NodeJS.ReadableStream,
  onMessage: (message: unknown) => void,
  onMalformed: (line: string) => void,
): void {
  let partial = '';
  stream.on('data', (chunk: Buffer | string) => {
    partial += chunk.toString();
    let newline: number;
    while ((newline = partial.indexOf('\n')) >= 0) {
      const line = partial.slice(0, newline);
      partial = partial.slice(newline + 1);
      if (!line) continue;
      let message: unknown;
      try {
        message = JSON.parse(line);
      } catch {
        onMalformed(line);
        continue;
      }
      onMessage(message);
    }
  });
}

export function jsonLine(message: unknown): string {
  return `${JSON.stringify(message)}\n`;
}
