/**
 * Tab sync (src/yjs/tab-sync.ts) over Node's BroadcastChannel, which delivers between
 * channels of one name in one process as a browser does between tabs of one origin:
 * edits both ways, a late tab getting the whole document and giving what it wrote alone,
 * names kept apart, presence and goodbyes, anything malformed on the channel dropped,
 * and a tab without a room reaching the mesh through a tab that has one.
 */
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { Awareness } from 'y-protocols/awareness';
import { createTabSync, type TabSync } from '../../src/yjs/tab-sync.js';
import { createYjsProvider } from '../../src/yjs/provider.js';
import { encodeUpdate, YjsTag } from '../../src/yjs/protocol.js';
import { MeshpartyError } from '../../src/util/errors.js';
import { ManualClock } from '../../src/util/clock.js';
import { waitFor } from '../support/net.js';
import { FakeHub } from './fake-room.js';

const quiet = () => {};
let names = 0;
/** A channel name no other test uses (they run in one process). */
const freshName = () => `tab-sync-test-${process.pid}-${++names}`;
const open: TabSync[] = [];
const tab = (doc: Y.Doc, name: string, awareness?: Awareness) => {
  const t = createTabSync(doc, { name, awareness, log: quiet, limits: { maxUpdateBytes: 4096 } });
  open.push(t);
  return t;
};
afterEach(() => {
  for (const t of open.splice(0)) t.destroy();
});

/** Tabs a (presence "Ada") and b on `name`, once b sees a's presence. */
async function twoTabsAdaSeen(name: string) {
  const [docA, docB] = [new Y.Doc(), new Y.Doc()];
  const awA = new Awareness(docA);
  const awB = new Awareness(docB);
  awA.setLocalStateField('user', { name: 'Ada' });
  const ta = tab(docA, name, awA);
  const tb = tab(docB, name, awB);
  await waitFor(() => awB.getStates().get(docA.clientID)?.user?.name === 'Ada', 'a\'s presence at b');
  return { docA, docB, awA, awB, ta, tb };
}

describe('tab sync', () => {
  it('edits go both ways; a tab opened later gets the whole document and gives what it wrote alone', async () => {
    const name = freshName();
    const [docA, docB, docC] = [new Y.Doc(), new Y.Doc(), new Y.Doc()];
    tab(docA, name);
    tab(docB, name);
    docA.getText('t').insert(0, 'from a. ');
    await waitFor(() => docB.getText('t').toString() === 'from a. ', 'a to b');
    docB.getText('t').insert(docB.getText('t').length, 'from b. ');
    await waitFor(() => docA.getText('t').toString() === 'from a. from b. ', 'b to a');

    // C wrote while no other tab was open (say, before a reload of the others).
    docC.getMap('m').set('alone', 'c');
    const tc = tab(docC, name);
    await waitFor(() => docC.getText('t').toString() === 'from a. from b. ', 'the document reaches the late tab');
    await waitFor(() => docA.getMap('m').get('alone') === 'c' && docB.getMap('m').get('alone') === 'c', 'the late tab\'s own edit reaches the others');
    await waitFor(() => tc.tabs === 2, 'the late tab counts the other two');
  });

  it('tabs of another name (another room, password or document) never get the document', async () => {
    const name = freshName();
    const [docA, docB, docOther] = [new Y.Doc(), new Y.Doc(), new Y.Doc()];
    tab(docA, name);
    tab(docB, name);
    tab(docOther, `${name}:other-password`);
    docA.getText('t').insert(0, 'secret');
    docOther.getText('t').insert(0, 'elsewhere');
    await waitFor(() => docB.getText('t').toString() === 'secret', 'a to b');
    // Later messages on the same channel have arrived, so anything crossing over would have too.
    docA.getText('t').insert(6, '!');
    await waitFor(() => docB.getText('t').toString() === 'secret!', 'a later edit to b');
    expect(docOther.getText('t').toString()).toBe('elsewhere');
    expect(docA.getText('t').toString()).toBe('secret!');
  });

  it('shares presence, and a tab that says goodbye is dropped at once with its presence', async () => {
    const { docA, docB, awA, awB, ta, tb } = await twoTabsAdaSeen(freshName());
    awB.setLocalStateField('user', { name: 'Bea' });
    await waitFor(() => awA.getStates().get(docB.clientID)?.user?.name === 'Bea', 'b\'s presence at a');
    expect(ta.tabs).toBe(1);
    const counts: number[] = [];
    tb.on('tabs', ({ count }) => counts.push(count));

    ta.destroy();
    await waitFor(() => !awB.getStates().has(docA.clientID), 'a\'s presence gone at b');
    expect(tb.tabs).toBe(0);
    expect(counts).toEqual([0]);
    // A destroyed tab sync sends nothing more, and the shared Awareness is left to its owner.
    expect(awA.getLocalState()).toEqual({ user: { name: 'Ada' } });
    docA.getText('t').insert(0, 'after goodbye');
    docB.getText('t').insert(0, 'b');
    await new Promise((r) => setTimeout(r, 50));
    expect(docB.getText('t').toString()).toBe('b');
    awA.destroy();
    awB.destroy();
  });

  it('a tab that starts tab sync again after its goodbye (back from the back/forward cache) shows again at once', async () => {
    const name = freshName();
    const { docA, awA, awB, ta } = await twoTabsAdaSeen(name);
    ta.destroy(); // pagehide
    await waitFor(() => !awB.getStates().has(docA.clientID), 'a\'s presence gone at b');
    // pageshow (persisted): same doc and Awareness, so the same client and clock as before.
    tab(docA, name, awA);
    // Well before y-protocols' 15 s renewal would send the state again with a newer clock.
    await waitFor(() => awB.getStates().get(docA.clientID)?.user?.name === 'Ada', 'a\'s presence at b again', 2000);
    awA.destroy();
    awB.destroy();
  });

  it('drops whatever on the channel is not a well-formed message, applying nothing of it', async () => {
    const name = freshName();
    const doc = new Y.Doc();
    const aw = new Awareness(doc);
    aw.setLocalStateField('user', { name: 'Bea' });
    const t = tab(doc, name, aw);
    doc.getText('t').insert(0, 'kept');
    const dropped: string[] = [];
    t.on('dropped', ({ reason }) => dropped.push(reason));
    const before = Y.encodeStateAsUpdate(doc);

    const intruder = new BroadcastChannel(`meshparty-tabs:${name}`);
    const env = (data: unknown, extra: Record<string, unknown> = {}) => ({ t: 'meshparty-tab/1', from: 'intruder', data, ...extra });
    const other = new Y.Doc();
    other.getText('t').insert(0, 'x'.repeat(5000));
    const big = Y.encodeStateAsUpdate(other);
    const valid = new Y.Doc();
    valid.getText('t').insert(0, 'ok ');
    const good = Y.encodeStateAsUpdate(valid);
    const truncated = good.slice(0, good.length - 3);
    // Our own client's presence, as if another tab spoke for it.
    const foreignSelf = new Uint8Array([3, ...encodeLen([1, ...varUint(aw.clientID), 9, ...strBytes('{"user":{"name":"Eve"}}')])]);
    const bad: unknown[] = [
      'hello',
      null,
      { t: 'someone-else/1', from: 'x', data: new Uint8Array([2, 0]) },
      env(new Uint8Array([2, 0]), { from: 42 }),
      env(new Uint8Array([2, 0]), { bye: 'yes' }),
      env(new Uint8Array([2, 0]), { l: 1 }),
      env(new Uint8Array([2, 0]), { p: 'yes' }),
      env('not bytes'),
      env(new Uint8Array([9, 9, 9])),
      env(encodeUpdate(YjsTag.Update, truncated)),
      env(encodeUpdate(YjsTag.Update, big)), // over the 4096-byte limit of this test
      env(foreignSelf),
    ];
    for (const m of bad) intruder.postMessage(m);
    await waitFor(() => dropped.length === bad.length, `all ${bad.length} dropped (got ${dropped.length})`);
    expect(dropped.find((r) => r.includes('exceeds 4096'))).toBeDefined();
    expect(dropped).toContain('presence for this tab\'s own client');
    expect(dropped).toContain('bad lock flag');
    expect(dropped).toContain('bad pull flag');
    expect(Y.encodeStateAsUpdate(doc)).toEqual(before);
    expect(aw.getLocalState()).toEqual({ user: { name: 'Bea' } });

    // The channel still works afterwards.
    intruder.postMessage(env(encodeUpdate(YjsTag.Update, good)));
    await waitFor(() => doc.getText('t').toString().includes('ok '), 'a good update after the bad ones');
    intruder.close();
  });

  it('a tab without a room reaches the mesh through a tab of the same browser that has one', async () => {
    const name = freshName();
    const hub = new FakeHub();
    const [docOffline, docOnline, docPeer] = [new Y.Doc(), new Y.Doc(), new Y.Doc()];
    tab(docOffline, name);
    tab(docOnline, name);
    const online = createYjsProvider(hub.join('online'), docOnline, { name: 'main', log: quiet });
    const peer = createYjsProvider(hub.join('peer'), docPeer, { name: 'main', log: quiet });
    docOffline.getText('t').insert(0, 'typed in the tab that never joined');
    await waitFor(() => docPeer.getText('t').toString() === 'typed in the tab that never joined', 'offline tab -> online tab -> peer');
    docPeer.getText('t').insert(0, '> ');
    await waitFor(() => docOffline.getText('t').toString().startsWith('> typed'), 'peer -> online tab -> offline tab');
    online.destroy();
    peer.destroy();
  });

  it('a tab whose room closes (its provider stops) stays in the other tabs\' presence', async () => {
    const name = freshName();
    const hub = new FakeHub();
    const [docA, docB, docPeer] = [new Y.Doc(), new Y.Doc(), new Y.Doc()];
    const awA = new Awareness(docA);
    const awB = new Awareness(docB);
    awA.setLocalStateField('user', { name: 'Ada' });
    tab(docA, name, awA);
    tab(docB, name, awB);
    const roomA = hub.join('a');
    createYjsProvider(roomA, docA, { name: 'main', awareness: awA, log: quiet });
    const peer = createYjsProvider(hub.join('peer'), docPeer, { name: 'main', log: quiet });
    await waitFor(() => peer.awareness.getStates().get(docA.clientID)?.user?.name === 'Ada', 'a\'s presence at the peer');
    await waitFor(() => awB.getStates().get(docA.clientID)?.user?.name === 'Ada', 'a\'s presence at tab b');

    // A's room ends (left, or closed for good: a wrong password); its provider stops with it.
    roomA.events.emit('status', 'closed');
    await waitFor(() => !peer.awareness.getStates().has(docA.clientID), 'the peer is told a is gone');
    // The tab is still open and synced with tab b: its presence stays, and changes still go.
    expect(awA.getLocalState()).toEqual({ user: { name: 'Ada' } });
    awA.setLocalStateField('user', { name: 'Ada L' });
    await waitFor(() => awB.getStates().get(docA.clientID)?.user?.name === 'Ada L', 'a\'s renamed presence at tab b');
    peer.destroy();
    awA.destroy();
    awB.destroy();
  });

  it('refuses a bad name and a missing BroadcastChannel with stable codes', () => {
    const doc = new Y.Doc();
    const codeOf = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        return err instanceof MeshpartyError ? err.code : String(err);
      }
      return 'no error';
    };
    expect(codeOf(() => createTabSync(doc, { name: '' }))).toBe('bad-argument');
    expect(codeOf(() => createTabSync(doc, { name: 'x'.repeat(513) }))).toBe('bad-argument');
    const saved = globalThis.BroadcastChannel;
    try {
      (globalThis as { BroadcastChannel?: unknown }).BroadcastChannel = undefined;
      expect(codeOf(() => createTabSync(doc, { name: 'n' }))).toBe('broadcast-channel-unsupported');
    } finally {
      globalThis.BroadcastChannel = saved;
    }
  });
});

describe('tab sync: options', () => {
  it('refuses a bad awareness, locks, log or clock with bad-argument naming it, and opens no channel', () => {
    let opened = 0;
    const Counting = class extends BroadcastChannel {
      constructor(n: string) {
        super(n);
        opened++;
        this.close();
      }
    };
    const refusal = (extra: Record<string, unknown>) => {
      try {
        createTabSync(new Y.Doc(), { name: freshName(), log: quiet, BroadcastChannel: Counting as never, ...extra }).destroy();
        return 'accepted';
      } catch (err) {
        return err instanceof MeshpartyError ? `${err.code}: ${err.message.split(' ')[0]}` : String(err);
      }
    };
    // An object with Awareness' methods but not its clientID and meta (a hand-made stand-in) threw after the channel opened.
    const halfAwareness = { on() {}, off() {}, getStates: () => new Map(), setLocalState() {} };
    const bad: Array<Record<string, unknown>> = [{ awareness: {} }, { awareness: 'aw' }, { awareness: halfAwareness }, { locks: {} }, { locks: 1 }, { log: 'console' }, { clock: {} }, { clock: Date }];
    for (const extra of bad) expect([extra, refusal(extra)]).toEqual([extra, `bad-argument: ${Object.keys(extra)[0]}`]);
    expect(opened).toBe(0);
    const awareness = new Awareness(new Y.Doc());
    const good: Array<Record<string, unknown>> = [{ awareness }, { locks: null }, { locks: undefined }, { clock: new ManualClock() }, { log: undefined }];
    for (const extra of good) expect([extra, refusal(extra)]).toEqual([extra, 'accepted']);
    expect(opened).toBe(good.length);
    awareness.destroy();
  });
});

describe('tab sync: limits', () => {
  it('a limit passed as undefined keeps its default, instead of switching the check off', async () => {
    const name = freshName();
    const t = createTabSync(new Y.Doc(), { name, log: quiet, limits: { maxAwarenessBytes: undefined } });
    open.push(t);
    const dropped: string[] = [];
    t.on('dropped', ({ reason }) => dropped.push(reason));
    const intruder = new BroadcastChannel(`meshparty-tabs:${name}`);
    // Presence over the default 1 MiB, then a small update whose arrival says it was heard.
    const huge = [1, ...varUint(4242), 1, ...strBytes(JSON.stringify({ user: { name: 'x'.repeat(1024 * 1024) } }))];
    intruder.postMessage({ t: 'meshparty-tab/1', from: 'intruder', data: new Uint8Array([3, ...encodeLen(huge)]) });
    const small = new Y.Doc();
    small.getText('t').insert(0, 'after');
    intruder.postMessage({ t: 'meshparty-tab/1', from: 'intruder', data: encodeUpdate(YjsTag.Update, Y.encodeStateAsUpdate(small)) });
    await waitFor(() => t.doc.getText('t').toString() === 'after', 'the update after it');
    intruder.close();
    expect(dropped).toEqual([`awareness update of ${huge.length} bytes exceeds ${1024 * 1024}`]);
    expect(t.awareness.getStates().has(4242)).toBe(false);
  });

  it('refuses a limit that is not a whole number of at least 1 (or Infinity) with bad-argument', () => {
    const codeOf = (limits: unknown) => {
      try {
        createTabSync(new Y.Doc(), { name: freshName(), log: quiet, limits: limits as never }).destroy();
        return 'accepted';
      } catch (err) {
        return err instanceof MeshpartyError ? err.code : String(err);
      }
    };
    const bad = [{ maxUpdateBytes: NaN }, { maxUpdateBytes: -1 }, { maxUpdateBytes: 0 }, { maxPresenceClients: 1.5 }, { maxAwarenessBytes: '1000' }, { maxUpdateBytes: null }, 5, null];
    for (const limits of bad) expect([limits, codeOf(limits)]).toEqual([limits, 'bad-argument']);
    for (const limits of [undefined, {}, { maxUpdateBytes: Infinity }, { maxPresenceClients: 1, maxAwarenessBytes: undefined }]) {
      expect([limits, codeOf(limits)]).toEqual([limits, 'accepted']);
    }
  });
});

function varUint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}
function strBytes(s: string): number[] {
  const b = [...new TextEncoder().encode(s)];
  return [...varUint(b.length), ...b];
}
function encodeLen(bytes: number[]): number[] {
  return [...varUint(bytes.length), ...bytes];
}
