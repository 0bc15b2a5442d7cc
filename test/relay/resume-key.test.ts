/**
 * Resume keys: a peer id proposed with the key its holder joined with is given back at
 * once (a live holder is replaced without the room hearing of it), anyone else is refused
 * while the id is held and for a grace period after its holder disconnected.
 */
import { describe, expect, it } from 'vitest';
import { waitFor } from '../support/net.js';
import { type RelayTestClient, relaysStoppedAfterEach, type TestRelay } from './client.js';

type Relay = TestRelay;
const relayWith = relaysStoppedAfterEach();

const KEY = 'owner-key-0123456789abc';
const OTHER = 'squatter-key-0123456789';

/** `owner` joins `room` as `peerId` with KEY, then `watcher` joins and hears of it. */
async function ownerAndWatcher(r: Relay, room = 'r', peerId = 'alice') {
  const owner = await r.connect();
  expect(await owner.join(room, { peerId, resumeKey: KEY })).toMatchObject({ type: 'joined', peerId });
  const watcher = await r.connect();
  const w = await watcher.join(room);
  await owner.nextOf('peer-joined');
  return { owner, watcher, watcherId: w.peerId };
}

/** A fresh connection's join of `peerId` with `extra`: the reply's type and code. */
async function tryJoin(r: Relay, peerId: string, extra: Record<string, unknown> = {}, room = 'r'): Promise<{ client: RelayTestClient; reply: string }> {
  const client = await r.connect();
  const m = await client.join(room, { peerId, ...extra });
  return { client, reply: m.type === 'joined' ? 'joined' : String(m.code) };
}

describe('relay: resume keys', () => {
  it('the owner with its key takes over a live connection at once; the room hears nothing', async () => {
    const r = await relayWith();
    const { owner, watcher, watcherId } = await ownerAndWatcher(r);
    // The owner's old connection is still open (as a half-dead one is to the relay).
    const again = await r.connect();
    expect(await again.join('r', { peerId: 'alice', resumeKey: KEY })).toMatchObject({ type: 'joined', peerId: 'alice', peers: [watcherId] });
    expect(await owner.nextOf('error', 'peer-id-resumed')).toMatchObject({ room: 'r' });
    expect(await owner.closed).toEqual({ code: 1000, reason: 'peer-id-resumed' });
    // Signals reach the new connection, and the first thing the watcher hears after its
    // own join is alice's signal: no peer-left or peer-joined in between.
    watcher.send({ type: 'signal', room: 'r', to: 'alice', data: 'to-new' });
    expect(await again.nextOf('signal')).toMatchObject({ from: watcherId, data: 'to-new' });
    again.send({ type: 'signal', room: 'r', to: watcherId, data: 'from-new' });
    expect(await watcher.next()).toMatchObject({ type: 'signal', from: 'alice', data: 'from-new' });
    await waitFor(() => r.logs.some((l) => l.event === 'connection-close' && l.reason === 'resumed'), 'the close logged as resumed');
    expect(r.logs.some((l) => l.event === 'peer-id-resumed')).toBe(true);
    expect(r.relay.metrics().connections).toBe(2);
  });

  it('a connection in other rooms keeps them when one membership is taken over', async () => {
    const r = await relayWith();
    const { owner } = await ownerAndWatcher(r);
    expect(await owner.join('elsewhere')).toMatchObject({ type: 'joined' });
    const again = await r.connect();
    expect(await again.join('r', { peerId: 'alice', resumeKey: KEY })).toMatchObject({ type: 'joined' });
    await owner.nextOf('error', 'peer-id-resumed');
    owner.send({ type: 'ping' });
    expect(await owner.nextOf('pong')).toBeTruthy();
    owner.send({ type: 'leave', room: 'r' });
    expect(await owner.nextOf('error', 'not-in-room')).toBeTruthy();
  });

  it('refuses another key, no key, or a malformed key while the holder is live', async () => {
    const r = await relayWith();
    await ownerAndWatcher(r);
    expect((await tryJoin(r, 'alice', { resumeKey: OTHER })).reply).toBe('peer-id-taken');
    expect((await tryJoin(r, 'alice')).reply).toBe('peer-id-taken');
    expect((await tryJoin(r, 'alice', { resumeKey: 'short' })).reply).toBe('resume-key-invalid');
    expect((await tryJoin(r, 'alice', { resumeKey: `${KEY}!` })).reply).toBe('resume-key-invalid');
    expect((await tryJoin(r, 'bob', { resumeKey: 'x'.repeat(129) })).reply).toBe('resume-key-invalid');
    expect((await tryJoin(r, 'bob', { resumeKey: 7 })).reply).toBe('bad-message');
    // The same key in another room is another slot.
    expect((await tryJoin(r, 'alice', { resumeKey: OTHER }, 'r2')).reply).toBe('joined');
  });

  it('keeps a disconnected id for its key during the grace period, frees it after', async () => {
    let now = 1_000_000;
    const r = await relayWith({ resumeGraceMs: 60_000, now: () => now });
    const { owner, watcher } = await ownerAndWatcher(r);
    owner.close();
    expect(await watcher.nextOf('peer-left')).toMatchObject({ peerId: 'alice' });
    now += 59_999;
    expect((await tryJoin(r, 'alice', { resumeKey: OTHER })).reply).toBe('peer-id-taken');
    expect((await tryJoin(r, 'alice')).reply).toBe('peer-id-taken');
    // The owner comes back within the grace period: the room hears it join again.
    const back = await tryJoin(r, 'alice', { resumeKey: KEY });
    expect(back.reply).toBe('joined');
    expect(await watcher.nextOf('peer-joined')).toMatchObject({ peerId: 'alice' });
    // Gone again; past the grace period anyone may have the id.
    back.client.close();
    await watcher.nextOf('peer-left');
    now += 60_000;
    expect((await tryJoin(r, 'alice', { resumeKey: OTHER })).reply).toBe('joined');
  });

  it('an explicit leave gives the id up at once', async () => {
    const r = await relayWith();
    const { owner } = await ownerAndWatcher(r);
    owner.send({ type: 'leave', room: 'r' });
    await waitFor(async () => (await tryJoin(r, 'alice', { resumeKey: OTHER })).reply === 'joined', 'the id free after leave', 2000);
  });

  it('a client that closes its socket itself (a tab closed or reloaded) frees its id at once', async () => {
    for (const close of [(c: RelayTestClient) => c.ws.close(1001), (c: RelayTestClient) => c.ws.close()]) {
      const r = await relayWith();
      const { owner, watcher } = await ownerAndWatcher(r);
      close(owner);
      expect(await watcher.nextOf('peer-left')).toMatchObject({ peerId: 'alice' });
      // Its next incarnation has another key (a reloaded page, a restarted process).
      expect((await tryJoin(r, 'alice', { resumeKey: OTHER })).reply).toBe('joined');
      await r.stop();
    }
  });

  it('remembers at most maxRememberedPeerIds disconnected ids, forgetting the oldest first', async () => {
    const r = await relayWith({ maxRememberedPeerIds: 2 });
    const watcher = await r.connect();
    await watcher.join('r');
    for (const id of ['p1', 'p2', 'p3']) {
      const c = await r.connect();
      expect(await c.join('r', { peerId: id, resumeKey: KEY })).toMatchObject({ type: 'joined' });
      c.close();
      expect(await watcher.next((m) => m.type === 'peer-left' && m.peerId === id)).toBeTruthy();
    }
    expect((await tryJoin(r, 'p1', { resumeKey: OTHER })).reply).toBe('joined');
    expect((await tryJoin(r, 'p2', { resumeKey: OTHER })).reply).toBe('peer-id-taken');
    expect((await tryJoin(r, 'p3', { resumeKey: OTHER })).reply).toBe('peer-id-taken');
    expect((await tryJoin(r, 'p3', { resumeKey: KEY })).reply).toBe('joined');
  });

  it('ties a relay-assigned id to the key too', async () => {
    const r = await relayWith();
    const a = await r.connect();
    const { peerId } = await a.join('r', { resumeKey: KEY });
    expect((await tryJoin(r, peerId, { resumeKey: OTHER })).reply).toBe('peer-id-taken');
    expect((await tryJoin(r, peerId, { resumeKey: KEY })).reply).toBe('joined');
    expect(await a.closed).toMatchObject({ code: 1000 });
  });
});
