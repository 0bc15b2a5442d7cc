/**
 * A tab opening asks one other tab for the document (tab-hello.test.ts). When that tab
 * does not send it within PULL_TIMEOUT_MS, or the tab sync's pullTimeoutMs (stuck, frozen
 * in the background, a broken build, still holding its lock), the new tab asks another
 * tab that has it; the slow tab stays counted with its presence, is not asked again
 * meanwhile, its answer is applied when it comes, and its going later sends no new
 * hello. The timeout runs on a ManualClock; the channel is Node's.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { createTabSync, MAX_PULL_TIMEOUT_MS, PULL_TIMEOUT_MS, type TabSync, type TabSyncOptions } from '../../src/yjs/tab-sync.js';
import { MeshpartyError } from '../../src/util/errors.js';
import { decodeYjsMessage, encodeSyncStep1, Step1Kind, YjsTag } from '../../src/yjs/protocol.js';
import { ManualClock } from '../../src/util/clock.js';
import { waitFor } from '../support/net.js';
import { gatedChannel, tabTestbed, type scriptedTab } from './support/tab-fakes.js';

/** The Awareness' presence check (presence-check.ts), which runs on the tab sync's clock too: the one timer left once no pull waits. */
const PRESENCE_CHECK = 1;
const { freshName, tab, scripted } = tabTestbed('tab-pull-timeout-test');
/** How many requests for the document (rechecks) in `sent` went to `to`. */
const pullsTo = (sent: unknown[], to: string) =>
  sent.filter((m) => {
    const env = m as { to?: string; data?: Uint8Array };
    if (env.to !== to || !env.data) return false;
    const d = decodeYjsMessage(env.data, { maxUpdateBytes: 1 << 20 } as never);
    return d.ok && d.message.tag === YjsTag.SyncStep1 && d.message.kind === Step1Kind.Recheck;
  }).length;

/** How many hellos (step 1s that pull, to every tab) are in `sent`. */
const hellos = (sent: unknown[]) =>
  sent.filter((m) => {
    const env = m as { to?: string; p?: true; data?: Uint8Array };
    return env.p && env.to === undefined;
  }).length;

/**
 * A new tab (clock `clock`) that hears `first` before tab `t1`: t1's messages are held
 * back until the new tab has asked `first` for the document. Resolves once it knows both.
 */
async function newTabAsking(name: string, first: ReturnType<typeof scriptedTab>, t1: TabSync, clock: ManualClock, extra: Partial<TabSyncOptions> = {}) {
  const sent: unknown[] = [];
  // (A presence of its own: y-protocols does not apply a client's first, empty one.)
  t1.awareness.setLocalStateField('user', { name: 't1' });
  const doc = new Y.Doc();
  let release!: () => void;
  const t = tab(doc, name, { clock, BroadcastChannel: gatedChannel(t1.tabId, new Promise<void>((r) => (release = r)), sent), ...extra });
  await waitFor(() => first.pulls.length === 1, 'the new tab asks the first tab it heard');
  release();
  // t1's presence comes after its recheck (its state vector), so both are in.
  const shows = (client: number) => t.awareness.getStates().has(client);
  await waitFor(() => t.tabs === 2 && shows(first.presenceClient) && shows(t1.awareness.clientID), 't1 answered too; both show');
  return { t, doc, sent };
}

/** A fresh document name, a clock for the new tab, and a tab `t1` whose document `full` holds 'the text'. */
function tabWithText() {
  const name = freshName();
  const full = new Y.Doc();
  full.getText('t').insert(0, 'the text');
  return { name, clock: new ManualClock(), full, t1: tab(full, name) };
}

describe('tab sync: a tab asked for the document that does not send it', () => {
  it('is passed over after PULL_TIMEOUT_MS for a tab that has it, and stays counted with its presence', async () => {
    const { name, clock, full, t1 } = tabWithText();
    // Says it has the text, and never sends it.
    const stuck = scripted(name, 'stuck', full);
    const { t, doc, sent } = await newTabAsking(name, stuck, t1, clock);

    // Until the bound, what t1 has counts as on its way from the stuck tab.
    clock.advance(PULL_TIMEOUT_MS - 1);
    expect(pullsTo(sent, t1.tabId)).toBe(0);
    clock.advance(1);
    expect(pullsTo(sent, t1.tabId)).toBe(1);
    await waitFor(() => doc.getText('t').toString() === 'the text', 'the text from t1');

    expect(stuck.pulls.map((p) => p.from)).toEqual([t.tabId]);
    expect(t.tabs).toBe(2);
    expect(t.awareness.getStates().get(stuck.presenceClient)).toEqual({ user: { name: 'stuck' } });
    clock.advance(10 * PULL_TIMEOUT_MS);
    expect(pullsTo(sent, t1.tabId) + pullsTo(sent, 'stuck')).toBe(2);
    expect(clock.pending).toBe(PRESENCE_CHECK);
  });

  it('a slow tab passed over is still heard: its late answer is applied, and it is asked once', async () => {
    const { name, clock, full, t1 } = tabWithText();
    // Has the text and more of its own, which no other tab has; answers when told.
    const slowDoc = new Y.Doc();
    Y.applyUpdate(slowDoc, Y.encodeStateAsUpdate(full));
    slowDoc.getText('t').insert(8, ', and more');
    const slow = scripted(name, 'slow', slowDoc);
    const { t, doc, sent } = await newTabAsking(name, slow, t1, clock);

    clock.advance(PULL_TIMEOUT_MS);
    expect(pullsTo(sent, t1.tabId)).toBe(1);
    await waitFor(() => doc.getText('t').toString() === 'the text', 'what t1 has, from t1');
    // What only the slow tab has waits for it: no other tab has it to ask, and the slow
    // tab, which still owes its answer, is not asked again.
    clock.advance(10 * PULL_TIMEOUT_MS);
    expect(pullsTo(sent, 'slow')).toBe(1);

    slow.answer(slow.pulls[0]!);
    await waitFor(() => doc.getText('t').toString() === 'the text, and more', 'the slow tab\'s answer, applied when it comes');
    clock.advance(10 * PULL_TIMEOUT_MS);
    expect([pullsTo(sent, 'slow'), pullsTo(sent, t1.tabId), slow.pulls.length]).toEqual([1, 1, 1]);
    expect(t.tabs).toBe(2);
    expect(t.awareness.getStates().get(slow.presenceClient)).toEqual({ user: { name: 'slow' } });
    expect(clock.pending).toBe(PRESENCE_CHECK);
  });

  it('a tab that keeps claiming a little more is passed over PULL_TIMEOUT_MS after it was first asked: re-asks do not restart the timeout', async () => {
    const { name, clock, full, t1 } = tabWithText();
    // Claims the text and a little more of its own each time, and never sends any of it.
    const greedyDoc = new Y.Doc();
    Y.applyUpdate(greedyDoc, Y.encodeStateAsUpdate(full));
    const greedy = scripted(name, 'greedy', greedyDoc);
    const { t, doc, sent } = await newTabAsking(name, greedy, t1, clock);

    // Every half timeout (so a timeout restarted by each re-ask would never run out), a
    // recheck claiming one more edit, then a presence, to know it was heard.
    for (let i = 1; i <= 4; i++) {
      clock.advance(PULL_TIMEOUT_MS / 2);
      greedyDoc.getText('mine').insert(0, 'x');
      greedy.post(encodeSyncStep1(Step1Kind.Recheck, Y.encodeStateVector(greedyDoc)), t.tabId);
      greedy.show({ user: { name: 'greedy' }, n: i });
      await waitFor(() => (t.awareness.getStates().get(greedy.presenceClient) as { n?: number } | undefined)?.n === i, `recheck ${i} heard`);
      if (i === 1) expect(greedy.pulls.length).toBe(2); // asked again for the more it claims
    }
    // Asked PULL_TIMEOUT_MS after its first ask, not after its last.
    expect(pullsTo(sent, t1.tabId)).toBe(1);
    await waitFor(() => doc.getText('t').toString() === 'the text', 'the text from t1');
    expect(t.tabs).toBe(2);
  });

  it('a tab that answers in time is not passed over, and its timeout is cleared', async () => {
    const { name, clock, full, t1 } = tabWithText();
    const prompt = scripted(name, 'prompt', full);
    const { doc, sent } = await newTabAsking(name, prompt, t1, clock);

    expect(clock.pending).toBe(PRESENCE_CHECK + 1);
    prompt.answer(prompt.pulls[0]!);
    await waitFor(() => doc.getText('t').toString() === 'the text', 'the text from the tab asked');
    expect(clock.pending).toBe(PRESENCE_CHECK);
    clock.advance(10 * PULL_TIMEOUT_MS);
    expect(pullsTo(sent, t1.tabId)).toBe(0);
  });

  it('waits pullTimeoutMs when given, instead of PULL_TIMEOUT_MS', async () => {
    const { name, clock, full, t1 } = tabWithText();
    const stuck = scripted(name, 'stuck', full);
    const { doc, sent } = await newTabAsking(name, stuck, t1, clock, { pullTimeoutMs: 800 });

    clock.advance(799);
    expect(pullsTo(sent, t1.tabId)).toBe(0);
    clock.advance(1);
    expect(pullsTo(sent, t1.tabId)).toBe(1);
    await waitFor(() => doc.getText('t').toString() === 'the text', 'the text from t1');
  });

  it('refuses a pullTimeoutMs that is not a number of ms from 0 to MAX_PULL_TIMEOUT_MS', () => {
    const codeOf = (pullTimeoutMs: unknown) => {
      try {
        createTabSync(new Y.Doc(), { name: freshName(), log: () => {}, pullTimeoutMs: pullTimeoutMs as number }).destroy();
        return 'accepted';
      } catch (err) {
        return err instanceof MeshpartyError ? err.code : String(err);
      }
    };
    for (const bad of [NaN, Infinity, -Infinity, -1, MAX_PULL_TIMEOUT_MS + 1, 1e12, '5000', null]) expect([bad, codeOf(bad)]).toEqual([bad, 'bad-argument']);
    for (const good of [undefined, 0, 1, 250.5, PULL_TIMEOUT_MS, MAX_PULL_TIMEOUT_MS]) expect([good, codeOf(good)]).toEqual([good, 'accepted']);
  });

  it('a tab passed over that goes later makes no new hello: what it was asked for was asked of another tab', async () => {
    const { name, clock, full, t1 } = tabWithText();
    const stuck = scripted(name, 'stuck', full);
    const { t, doc, sent } = await newTabAsking(name, stuck, t1, clock);
    clock.advance(PULL_TIMEOUT_MS);
    await waitFor(() => doc.getText('t').toString() === 'the text', 'the text from t1');
    expect(hellos(sent)).toBe(1);

    stuck.bye();
    await waitFor(() => t.tabs === 1, 'the stuck tab is forgotten');
    expect(t.awareness.getStates().has(stuck.presenceClient)).toBe(false);
    expect(hellos(sent)).toBe(1);
  });
});
