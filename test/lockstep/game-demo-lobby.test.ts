/**
 * The light-cycles demo's lobby and session, wired as demos/game/main.ts wires them, on
 * the in-memory network: a page that arrives while a game runs is told so (and shows no
 * Start: pressing it would begin a game no one else plays, and freeze that page), then
 * joins the running game. Also the chat codec takes every text the page lets you send
 * (the keyboard has its own test, game-keyboard.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { createLockstepSession, type LockstepSession } from '../../src/index.js';
import { Lobby } from '../../demos/game/lobby.js';
import { lightCycles, type CycleInput, type LightCyclesState } from '../../demos/game/light-cycles.js';
import { decodeChatMessage, encodeChatMessage, MAX_TEXT_LENGTH } from '../../demos/chat/chat-message.js';
import { advanceUntil, connect, net } from './support/memory-sessions.js';

type Cycles = LockstepSession<LightCyclesState, CycleInput>;

describe('light-cycles demo', () => {
  it('a page arriving mid-game sees the game running (no Start for it) and rides from the next round', async () => {
    const n = net(2);
    const rooms = await connect(n, ['b', 'c']);
    const session = (room: (typeof rooms)[number]) => createLockstepSession({ room, game: lightCycles, clock: n.clock, inputDelay: 'auto', hashEvery: 10, log: () => {} }) as Cycles;
    const lobbies = rooms.map((r, i) => new Lobby(r, `P${i}`));
    const sessions = rooms.map(session);
    sessions.forEach((s, i) => s.on('started', () => lobbies[i]!.markPlaying())); // as main.ts does
    lobbies.forEach((l) => l.set({ ready: true }));
    await n.advance(500);
    sessions[0]!.start({ players: lobbies[0]!.readyPlayers() });
    await advanceUntil(n, () => sessions.every((s) => s.frame > 100), 20_000);
    // 'a' opens the link: it has the lowest id, so it would be the host of an empty room.
    const late = n.join('game', { peerId: 'a' });
    const lateLobby = new Lobby(late, 'Late');
    const lateSession = session(late);
    await advanceUntil(n, () => late.peers.size === 2 && lateLobby.entries.size === 2, 10_000, 10);
    expect(lateLobby.isHost).toBe(true);
    expect(lateLobby.gameRunning).toBe(true); // so main.ts hides Start and says a game runs
    await advanceUntil(n, () => lateSession.status === 'running' && lateSession.frame > sessions[0]!.frame - 30, 20_000);
    expect(lateSession.status).toBe('running');
    expect(sessions[0]!.players).toContain('a');
    for (const l of [...lobbies, lateLobby]) l.close();
    for (const s of [...sessions, lateSession]) s.leave();
  });

  it('chat: a receiver takes every text the sender may send, control characters included', () => {
    const text = 'a' + '\u0001'.repeat(MAX_TEXT_LENGTH - 2) + 'b'; // 2000 characters, 12 KB as JSON
    expect(decodeChatMessage(encodeChatMessage({ t: 'say', text }))).toEqual({ t: 'say', text });
  });
});
