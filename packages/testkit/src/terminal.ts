/** A command-line program driven as a person would drive it, with its terminal replaced by pipes. */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { Mailbox } from './mailbox.js';

export class TerminalProcess {
  /** Every line the program printed, stdout and stderr interleaved as they arrived. */
  readonly lines = new Mailbox<string>();
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcessWithoutNullStreams;

  constructor(command: string, args: string[], options: { cwd?: string; env?: Record<string, string> } = {}) {
    this.child = spawn(command, args, { cwd: options.cwd, env: { ...process.env, ...options.env } });
    let partial = '';
    const collect = (chunk: Buffer) => {
      partial += chunk.toString('utf8');
      const parts = partial.split('\n');
      partial = parts.pop()!;
      for (const line of parts) this.lines.push(line);
    };
    this.child.stdout.on('data', collect);
    this.child.stderr.on('data', collect);
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  type(line: string): void {
    this.child.stdin.write(`${line}\n`);
  }

  /** Waits for the next line matching `pattern`; lines before it are passed over. */
  expect(pattern: RegExp, timeoutMs = 8000): Promise<string> {
    return this.lines.next((line) => pattern.test(line), timeoutMs, `a line matching ${pattern}`);
  }

  /** Ends the input, as Ctrl-D does, and waits for the exit code. */
  end(): Promise<number | null> {
    this.child.stdin.end();
    return this.exited;
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }
}
