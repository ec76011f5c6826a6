import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SessionInfo } from './hub.js';
import { type SessionSwitch, answerSessionCommand } from './session-commands.js';

function switcher(labels: string[]): SessionSwitch & { routed?: string } {
  const sessions: SessionInfo[] = labels.map((label, i) => ({ id: `s${i}`, label, pid: i, attachedAt: i }));
  const state: SessionSwitch & { routed?: string } = {
    sessions: () => sessions,
    active: () => sessions.find((s) => s.id === state.routed) ?? sessions.at(-1),
    route: (id) => {
      if (!sessions.some((s) => s.id === id)) return false;
      state.routed = id;
      return true;
    },
  };
  return state;
}

test('/sessions lists the sessions and marks the receiving one', () => {
  assert.equal(
    answerSessionCommand('sessions', '/sessions', switcher(['api', 'web'])),
    'Sessions attached to this bot:\n1. api\n2. web ← receives your messages\n\nSend /use <number> to choose which one receives your messages.',
  );
  assert.equal(answerSessionCommand('sessions', '/sessions', switcher([])), 'No Claude Code session is attached.');
});

test('/use <n> routes to session n; a wrong or missing number says what to do', () => {
  const sessions = switcher(['api', 'web']);
  assert.equal(answerSessionCommand('use', '/use 1', sessions), 'Your messages now go to 1. api.');
  assert.equal(sessions.routed, 's0');
  assert.equal(answerSessionCommand('use', '/use 3', sessions), 'No session 3: send /sessions for the list.');
  assert.equal(answerSessionCommand('use', '/use two', sessions), 'No session two: send /sessions for the list.');
  assert.equal(answerSessionCommand('use', '/use', sessions), 'Say which session: /use <number> (see /sessions).');
  assert.equal(sessions.routed, 's0');
});
