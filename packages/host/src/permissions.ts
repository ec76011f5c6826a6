/**
 * Permission requests as the session side keeps them: a fresh id per request, open until the
 * first answer (from the terminal or any channel) wins; later answers and unknown ids are ignored.
 */
import { randomInt } from 'node:crypto';
import { type Behavior, REQUEST_ID_ALPHABET } from '@openchannels/kit';

export interface Answer {
  behavior: Behavior;
  /** Who answered: `terminal` or a channel's name. */
  via: string;
}

export interface OpenRequest {
  id: string;
  answered: Promise<Answer>;
}

export class PermissionBroker {
  private readonly open = new Map<string, (answer: Answer) => void>();

  /** Opens a request under an id unique among the open ones. */
  openRequest(): OpenRequest {
    let id: string;
    do {
      id = Array.from({ length: 5 }, () => REQUEST_ID_ALPHABET[randomInt(REQUEST_ID_ALPHABET.length)]).join('');
    } while (this.open.has(id));
    const answered = new Promise<Answer>((resolve) => this.open.set(id, resolve));
    return { id, answered };
  }

  /** Applies an answer if `id` is open; returns false for unknown or already answered ids. */
  answer(id: string, answer: Answer): boolean {
    const resolve = this.open.get(id.toLowerCase());
    if (!resolve) return false;
    this.open.delete(id.toLowerCase());
    resolve(answer);
    return true;
  }

  isOpen(id: string): boolean {
    return this.open.has(id.toLowerCase());
  }

  get openIds(): string[] {
    return [...this.open.keys()];
  }
}
