/**
 * The chat commands with which a user picks, from their phone, which of the sessions sharing a
 * bot receives their messages: `/sessions` lists them, `/use <n>` chooses one. Platform-neutral:
 * each connector recognises the commands and sends back the text these functions return.
 */
import type { LeaderContext } from './hub.js';

export type SessionSwitch = Pick<LeaderContext, 'sessions' | 'active' | 'route'>;

/** The answer to `/sessions` or `/use <n>`; `text` is the whole message, command included. */
export function answerSessionCommand(command: 'sessions' | 'use', text: string, switcher: SessionSwitch): string {
  const list = switcher.sessions();
  if (command === 'use') {
    const argument = text.trim().split(/\s+/)[1];
    const n = Number(argument);
    const chosen = Number.isInteger(n) ? list[n - 1] : undefined;
    if (!chosen || !switcher.route(chosen.id)) {
      return argument ? `No session ${argument}: send /sessions for the list.` : 'Say which session: /use <number> (see /sessions).';
    }
    return `Your messages now go to ${n}. ${chosen.label}.`;
  }
  if (list.length === 0) return 'No Claude Code session is attached.';
  const active = switcher.active()?.id;
  const lines = list.map((s, i) => `${i + 1}. ${s.label}${s.id === active ? ' ← receives your messages' : ''}`);
  return `Sessions attached to this bot:\n${lines.join('\n')}\n\nSend /use <number> to choose which one receives your messages.`;
}
