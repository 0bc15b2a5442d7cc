/**
 * Syncing one Y.Doc with the other tabs of the same browser (same origin) over a
 * BroadcastChannel, without the relay or WebRTC: tabs opened offline, or before the relay
 * answers, or in a browser that will not start WebRTC, still see each other's edits and
 * presence at once. It needs no room, so a page starts it at load, beside its IndexedDB
 * persistence, and keeps it when the relay goes away. Same messages as a document channel
 * (protocol.ts: hello, recheck, step 2, updates, awareness), each in an envelope that
 * says which tab sent it and, for answers, which tab it is for.
 */
import * as Y from 'yjs';
import { Awareness, applyAwarenessUpdate, encodeAwarenessUpdate } from 'y-protocols/awareness';
import { realClock, type Clock, type TimerHandle } from '../util/clock.js';
import { Emitter } from '../util/emitter.js';
import {
  Step1Kind,
  YjsTag,
  decodeYjsMessage,
  encodeAwareness,
  encodeSyncStep1,
  encodeUpdate,
  type YjsLimits,
  type YjsMessage,
} from './protocol.js';
import { takeOverPresenceCheck } from './presence-check.js';
import { clientsAfter, quietly, removeSenderPresence } from './presence-senders.js';
import { TabLiveness, type TabLocks } from './tab-locks.js';
import { ENVELOPE, randomTabId, readEnvelope, type Envelope } from './tab-envelope.js';
import { checkTabSyncOptions, type BroadcastChannelLike, type TabSyncOptions } from './tab-sync-options.js';
import { onDocDestroyed } from './doc-destroyed.js';

export { MAX_PULL_TIMEOUT_MS, MAX_TAB_SYNC_NAME_LENGTH, PULL_TIMEOUT_MS } from './tab-sync-options.js';
export type { BroadcastChannelConstructor, BroadcastChannelLike, TabSyncOptions } from './tab-sync-options.js';

/**
 * Events of a {@link TabSync}; every `on()` returns its unsubscribe function.
 *
 * @example
 * ```ts
 * const off = tabs.on('tabs', ({ count }) => (badge.textContent = `${count} other tabs`));
 * tabs.on('dropped', ({ reason }) => console.warn('ignored a message from another tab:', reason));
 * off();
 * ```
 */
export interface TabSyncEvents {
  /**
   * How many other tabs of this document this one has heard from (their hello, or their
   * answer to ours) and that have not said goodbye or, with Web Locks, closed or crashed.
   */
  tabs: { count: number };
  /**
   * A message on the channel was dropped (malformed, over `limits`, or one no tab sends);
   * nothing of it was applied, and its sender is not counted for it.
   */
  dropped: { reason: string };
}

/**
 * Other tabs remembered at once; past it the one heard from least recently is dropped
 * (with its presence and what we asked it for), as one that closed without a goodbye
 * would be.
 */
export const MAX_TABS = 256;
/** Tabs that went remembered at once, so that they are not asked for the document again (TabSync.#gone). */
const MAX_GONE_TABS = 4 * MAX_TABS;
const CHANNEL_PREFIX = 'meshparty-tabs:';

interface OtherTab {
  /** Awareness clients it spoke for, removed when it says goodbye. */
  clients: Set<number>;
  /** We answered one of its step 1s. */
  answered: boolean;
  /**
   * We asked it for what it has and we lack (a recheck) and its step 2 has not come:
   * `waiting` while that counts as on its way, `overdue` once `pullTimeoutMs` passed
   * (other tabs are asked for it; its step 2 is still applied when it comes).
   */
  pull?: 'waiting' | 'overdue';
  /** The pull's timeout, while waiting. */
  timer?: TimerHandle;
  /** The state vector its recheck gave (what it says it has), while we may still ask it. */
  claimed?: Map<number, number>;
}

/**
 * Keeps a Y.Doc (and its presence) in sync with the other tabs of this browser that use
 * the same `name`. `destroy()` says goodbye, so the other tabs drop this tab's presence
 * at once (call it on `pagehide`, and make a new one on a `pageshow` whose `persisted` is
 * true: the page came back from the back/forward cache). A tab that crashes or is killed
 * is dropped at once where the browser has Web Locks (every current one), else by
 * y-protocols' 30 s presence timeout. Only each tab's own presence goes between tabs.
 * It shares the Awareness's presence check with the providers on it (presence-check.ts),
 * so a page woken from a freeze or sleep keeps the other tabs' presence instead of
 * dropping it until their renewals are read.
 *
 * @example
 * ```ts
 * const tabs = new TabSync(doc, { name: 'notes:main', awareness });
 * addEventListener('pagehide', () => tabs.destroy());
 * ```
 */
export class TabSync {
  readonly doc: Y.Doc;
  readonly awareness: Awareness;
  /** This tab's id on the channel (random). */
  readonly tabId: string;

  #channel: BroadcastChannelLike;
  #limits: YjsLimits;
  #log: (message: string) => void;
  #clock: Clock;
  #pullTimeoutMs: number;
  #events = new Emitter<TabSyncEvents>();
  #tabs = new Map<string, OtherTab>();
  #ownsAwareness: boolean;
  #liveness: TabLiveness | undefined;
  /** What this tab said before it held its lock, sent once it does (see TabLiveness). */
  #queued: Array<{ to?: string; p?: true; data: Uint8Array }> | undefined = [];
  /**
   * The most of each client's edits asked for from some tab (by a recheck answering its
   * recheck), so that tabs holding the same edits are not each asked for them.
   */
  #asked = new Map<number, number>();
  /**
   * Tabs that went (goodbye, or their lock), the latest MAX_GONE_TABS, in the order they
   * went. Such a tab is never asked for the document again: a live tab never comes back
   * under its id (a new tab sync picks a new one), so what comes from it later is what it
   * sent before going, or a broken or hostile tab's, which could otherwise answer each of
   * our hellos with a claim and each request with a goodbye, and keep every tab saying
   * hello in a loop. What it sends is still applied.
   */
  #gone = new Set<string>();
  #destroyed = false;
  #unsubscribe: Array<() => void> = [];

  constructor(doc: Y.Doc, options: TabSyncOptions) {
    // Checked before the channel opens: a constructor that throws leaves nothing open.
    const { Channel, limits, pullTimeoutMs } = checkTabSyncOptions(options);
    this.#limits = limits;
    this.doc = doc;
    this.#channel = new Channel(CHANNEL_PREFIX + options.name);
    this.awareness = options.awareness ?? new Awareness(doc);
    this.#ownsAwareness = !options.awareness;
    this.#log = options.log ?? ((m) => console.warn(`[meshparty tabs ${options.name}] ${m}`));
    this.#clock = options.clock ?? realClock();
    this.#pullTimeoutMs = pullTimeoutMs;
    this.tabId = randomTabId();

    this.#channel.onmessage = (event) => this.#receive(event.data);
    const onUpdate = (update: Uint8Array, origin: unknown) => {
      // Everything but what another tab sent: our edits, and what peers of the mesh and
      // the page's storage applied (another tab may not have it yet, say it is offline).
      if (origin !== this) this.#post({ data: encodeUpdate(YjsTag.Update, update) });
    };
    doc.on('update', onUpdate);
    this.#unsubscribe.push(() => doc.off('update', onUpdate));
    const onAwareness = ({ added, updated, removed }: { added: number[]; updated: number[]; removed: number[] }, origin: unknown) => {
      if (origin === this) return;
      const self = this.awareness.clientID;
      if ([...added, ...updated, ...removed].includes(self)) this.#postPresence();
    };
    this.awareness.on('update', onAwareness);
    this.#unsubscribe.push(() => this.awareness.off('update', onAwareness));
    // The page's presence check, shared with the providers on this Awareness (one check
    // per Awareness): after a freeze or sleep, the presence of the tabs we know counts as
    // renewed instead of being dropped before their renewals are read (a tab that went
    // meanwhile is still dropped by its goodbye or its lock). Not handed back to
    // y-protocols' interval for an Awareness we destroy (see destroy()).
    this.#unsubscribe.push(takeOverPresenceCheck(this.awareness, this.#clock, () => this.#spokenFor(), !this.#ownsAwareness));
    // Also when an app listener throws as doc.destroy() destroys our Awareness: the channel
    // and lock would stay, the tab counted for good (see doc-destroyed.ts).
    this.#unsubscribe.push(onDocDestroyed(doc, this.awareness, (awarenessGoing) => this.#teardown(!awarenessGoing)));

    this.#hello();
    this.#postPresence();
    const locks = options.locks === null ? undefined : (options.locks ?? (globalThis as { navigator?: { locks?: TabLocks } }).navigator?.locks);
    this.#liveness = new TabLiveness(locks, this.tabId, () => this.#speak(), this.#log);
  }

  /** The presence clients the tabs we know speak for (the presence check's `spokenFor`). */
  #spokenFor(): number[] {
    return [...this.#tabs.values()].flatMap((t) => [...t.clients]);
  }

  /** How many other tabs of this document this one has heard from and knows to be open. */
  get tabs(): number {
    return this.#tabs.size;
  }

  /** Subscribe to events; returns the unsubscribe function. */
  on<K extends keyof TabSyncEvents>(event: K, listener: (value: TabSyncEvents[K]) => void): () => void {
    return this.#events.on(event, listener);
  }

  /**
   * Stop: say goodbye (the other tabs drop this tab's presence), close the channel,
   * unsubscribe (and destroy the Awareness if this created it; an app listener on it that
   * throws meanwhile is logged, and leaves no timer behind). The doc and a shared
   * Awareness are left as they are. Idempotent; called by itself when the doc is destroyed
   * (also when an app listener throws as doc.destroy() destroys the Awareness).
   */
  destroy(): void {
    this.#teardown(true);
  }

  /** destroy(), destroying an Awareness this created only if `destroyAwareness` (not when it is being destroyed). */
  #teardown(destroyAwareness: boolean): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    for (const off of this.#unsubscribe) off();
    // A tab that never spoke has no one to say goodbye to.
    if (!this.#queued) this.#post({ bye: true });
    this.#queued = undefined;
    this.#liveness?.close();
    for (const tab of this.#tabs.values()) this.#stopTimer(tab);
    this.#channel.onmessage = null;
    this.#channel.close();
    this.#events.clear();
    if (this.#ownsAwareness && destroyAwareness) {
      // No y-protocols interval may be running: Awareness.destroy() clears it only after
      // emitting 'change' for our removed state, and an app listener that throws there
      // (its UI already torn down) would leave it running for good, holding the doc. Our
      // check was released without handing back; this clears one a provider handed back.
      // That throw is logged, as the provider does: destroy() runs on pagehide and doc.destroy().
      clearInterval((this.awareness as unknown as { _checkInterval: Parameters<typeof clearInterval>[0] })._checkInterval);
      this.#quietly(() => this.awareness.destroy());
    }
  }

  /** This tab holds its lock (or has none to hold): send what it said meanwhile. */
  #speak(): void {
    const queued = this.#queued;
    this.#queued = undefined;
    if (this.#destroyed || !queued) return;
    for (const body of queued) this.#post(body);
  }

  /**
   * Ask every tab for its state vector (`p`), then one tab for what this one lacks (see
   * #pull): every tab answering with the document would make each of them encode it and
   * this tab apply it once per tab, which for a new tab (empty until its storage loads)
   * is the whole document each time. A tab of an older meshparty answers with the
   * document anyway.
   */
  #hello(): void {
    // What tabs still waiting to answer were asked for stays on its way: their answer to
    // this hello (a recheck) must not make us ask them for it a second time.
    this.#recount();
    this.#post({ p: true, data: encodeSyncStep1(Step1Kind.Hello, Y.encodeStateVector(this.doc)) });
  }

  #post(body: { to?: string; bye?: true; p?: true; data?: Uint8Array }): void {
    if (this.#destroyed && !body.bye) return;
    if (this.#queued && body.data) return void this.#queued.push({ to: body.to, p: body.p, data: body.data });
    const envelope: Envelope = { t: ENVELOPE, from: this.tabId, ...body, ...(this.#liveness?.held && { l: true as const }) };
    try {
      this.#channel.postMessage(envelope);
    } catch (err) {
      // A closed channel (the page is going away); nothing to tell anyone.
      this.#log(`posting to other tabs failed: ${(err as Error).message}`);
    }
  }

  #postPresence(to?: string): void {
    const self = this.awareness.clientID;
    if (!this.awareness.meta.has(self)) return;
    this.#post({ to, data: encodeAwareness(encodeAwarenessUpdate(this.awareness, [self])) });
  }

  #receive(raw: unknown): void {
    if (this.#destroyed) return;
    const envelope = readEnvelope(raw);
    if (typeof envelope === 'string') return this.#drop(envelope);
    if (envelope.from === this.tabId || (envelope.to !== undefined && envelope.to !== this.tabId)) return;
    if (envelope.bye) return this.#forget(envelope.from);
    const decoded = decodeYjsMessage(envelope.data!, this.#limits);
    if (!decoded.ok) return this.#drop(decoded.reason);
    const from = envelope.from;
    const m = decoded.message;
    // Refused before its sender is known: a message dropped makes no tab counted or watched.
    const refusal = this.#refusal(from, m);
    if (refusal) return this.#drop(refusal);
    const tab = this.#tab(from);
    if (envelope.l) this.#liveness?.watch(from, () => this.#forget(from));
    switch (m.tag) {
      case YjsTag.SyncStep1:
        // A hello that pulls gets our deletions, our state vector (the recheck below), and
        // what it lacks only if it asks (its recheck): ours may be one of many answers.
        // The deletions always: a state vector does not show them (a delete makes no new
        // clock), so a tab that has every insert it is told of may still lack some.
        if (m.kind === Step1Kind.Hello && envelope.p) {
          tab.answered = false;
          this.#post({ to: from, data: encodeUpdate(YjsTag.SyncStep2, Y.encodeStateAsUpdate(this.doc, Y.encodeStateVector(this.doc))) });
        } else if (m.kind === Step1Kind.Hello || !tab.answered) {
          tab.answered = true;
          this.#post({ to: envelope.from, data: encodeUpdate(YjsTag.SyncStep2, Y.encodeStateAsUpdate(this.doc, m.stateVector)) });
        }
        if (m.kind === Step1Kind.Recheck) {
          tab.claimed = Y.decodeStateVector(m.stateVector);
          this.#pull(from, tab);
        }
        if (m.kind === Step1Kind.Hello) {
          // A new tab: it may have what we lack (edits made while it was alone), and it
          // needs our presence, which it was not there to hear.
          this.#post({ to: envelope.from, data: encodeSyncStep1(Step1Kind.Recheck, Y.encodeStateVector(this.doc)) });
          this.#postPresence(envelope.from);
        }
        break;
      case YjsTag.SyncStep2:
      case YjsTag.Update:
        try {
          Y.applyUpdate(this.doc, m.update, this);
        } catch (err) {
          // Checked whole before this: an observer of the app threw, not the other tab.
          this.#log(`applying an update from another tab threw: ${(err as Error).message}`);
        }
        if (m.tag === YjsTag.SyncStep2 && tab.pull) this.#pulled(tab);
        break;
      case YjsTag.Awareness:
        tab.clients = clientsAfter(tab.clients, m.entries);
        this.#quietly(() => applyAwarenessUpdate(this.awareness, m.update, this));
        break;
    }
  }

  /** Why `m`, well formed, from the tab `from` is refused; undefined when it is taken. */
  #refusal(from: string, m: YjsMessage): string | undefined {
    // Forwarding is between the peers of a room (forwarding.ts): no tab sends it to tabs.
    if (m.tag === YjsTag.ForwardedUpdate || m.tag === YjsTag.ForwardedAwareness) return `a forwarded message (tag ${m.tag}) from a tab`;
    if (m.tag !== YjsTag.Awareness) return undefined;
    const after = clientsAfter(this.#tabs.get(from)?.clients ?? new Set(), m.entries).size;
    if (after > this.#limits.maxPresenceClients) return `presence for ${after} clients, over ${this.#limits.maxPresenceClients} for one tab`;
    // Our own client is ours to speak for: another tab cannot remove or change it.
    if (m.entries.some((e) => e.clientId === this.awareness.clientID)) return 'presence for this tab\'s own client';
    return undefined;
  }

  /** The tab said goodbye (or its lock): forget it and the presence it spoke for (unless another tab still speaks for it). */
  #forget(id: string): void {
    const tab = this.#remove(id);
    if (!tab) return;
    this.#gone.delete(id);
    this.#gone.add(id);
    if (this.#gone.size > MAX_GONE_TABS) this.#gone.delete(this.#gone.values().next().value!);
    // It went before sending what we asked it for, which counted as on its way: ask
    // everyone again, if some of it is still neither here nor asked of a tab still
    // waiting to answer (another tab asked for more of the same may have sent it). Not
    // for an overdue tab: what it was asked for already stopped counting and was asked of
    // the other tabs that have it, so its going changes nothing.
    if (tab.pull === 'waiting') {
      this.#recount();
      if ([...(tab.claimed ?? [])].some(([client, clock]) => this.#beyond(client, clock))) this.#hello();
    }
    this.#events.emit('tabs', { count: this.#tabs.size });
  }

  /**
   * Take `id` out of the table with its lock watch, its pull's timer and the presence it
   * spoke for (unless another tab still speaks for it); the tab, if there was one.
   */
  #remove(id: string): OtherTab | undefined {
    const tab = this.#tabs.get(id);
    if (!tab) return undefined;
    this.#tabs.delete(id);
    this.#liveness?.unwatch(id);
    this.#stopTimer(tab);
    // (Their clocks go too: a tab that starts tab sync again on the same Awareness, back
    // from the back/forward cache, sends the clock we last saw.)
    const stillHere = new Set([...this.#tabs.values()].flatMap((t) => [...t.clients]));
    removeSenderPresence(this.awareness, tab.clients, stillHere, this, (change) => this.#quietly(change));
    return tab;
  }

  /**
   * Ask `id` for what its state vector (`tab.claimed`) has beyond ours and beyond what we
   * asked other tabs for; whether we asked.
   */
  #pull(id: string, tab: OtherTab): boolean {
    const want = tab.claimed;
    // An overdue tab is asked again only once its step 2 came: a channel keeps each
    // sender's order, so that step 2 comes before anything it answers after it.
    if (!want || tab.pull === 'overdue' || this.#gone.has(id)) return false;
    if (![...want].some(([client, clock]) => this.#beyond(client, clock))) return false;
    for (const [client, clock] of want) if (this.#beyond(client, clock)) this.#asked.set(client, clock);
    // A tab still waiting to answer that is asked again (its recheck claimed more) keeps
    // the timeout of its first ask: restarted, a tab claiming a little more each time
    // would never be passed over, and the tabs that have the edits never asked.
    if (tab.pull !== 'waiting') {
      tab.pull = 'waiting';
      tab.timer = this.#clock.setTimeout(() => this.#overdue(id, tab), this.#pullTimeoutMs);
    }
    this.#post({ to: id, data: encodeSyncStep1(Step1Kind.Recheck, Y.encodeStateVector(this.doc)) });
    return true;
  }

  /**
   * `tab` has not sent what we asked it for within `pullTimeoutMs` (stuck, frozen in the
   * background, or broken, and still holding its lock): what we asked of it no longer
   * counts as on its way, and another tab that has it is asked. The tab stays (its
   * presence too), and its step 2 is applied when it comes.
   */
  #overdue(id: string, tab: OtherTab): void {
    tab.timer = undefined;
    if (this.#destroyed || tab.pull !== 'waiting' || this.#tabs.get(id) !== tab) return;
    tab.pull = 'overdue';
    this.#log(`tab ${id} did not send what it was asked for within ${this.#pullTimeoutMs} ms: asking another tab`);
    this.#askAgain();
  }

  /**
   * The step 2 we asked `tab` for came and is applied. If it left out what the tab said it
   * had (a tab that lies, or is broken), we stop asking it and ask another tab that said
   * it has more than we do now: what we asked of it counted as on its way, so no other tab
   * was asked for it.
   */
  #pulled(tab: OtherTab): void {
    tab.pull = undefined;
    this.#stopTimer(tab);
    if ([...(tab.claimed ?? [])].some(([client, clock]) => clock > this.#has(client))) tab.claimed = undefined;
    this.#askAgain();
  }

  /**
   * Work out what is on its way again, from the tabs still waiting to answer, and ask the
   * first tab whose claim goes beyond that and what we have.
   */
  #askAgain(): void {
    this.#recount();
    for (const [id, t] of this.#tabs) if (this.#pull(id, t)) return;
  }

  /** Work out what is on its way (`#asked`) from the claims of the tabs still waiting to answer. */
  #recount(): void {
    this.#asked.clear();
    for (const t of this.#tabs.values()) {
      if (t.pull === 'waiting') for (const [client, clock] of t.claimed ?? []) this.#asked.set(client, Math.max(clock, this.#asked.get(client) ?? 0));
    }
  }

  /** Whether `client`'s edits up to `clock` go beyond what we have and what we asked tabs for. */
  #beyond(client: number, clock: number): boolean {
    return clock > Math.max(this.#has(client), this.#asked.get(client) ?? 0);
  }

  #stopTimer(tab: OtherTab): void {
    if (tab.timer !== undefined) this.#clock.clearTimeout(tab.timer);
    tab.timer = undefined;
  }

  /** How many of `client`'s edits the doc has (its entry in our state vector, without encoding the whole vector). */
  #has(client: number): number {
    return Y.getState(this.doc.store, client);
  }

  /**
   * The entry of `id`, just heard from. The table is kept in the order tabs were last heard
   * from (a Map iterates in insertion order, so a tab heard again is moved to the back):
   * past MAX_TABS the one dropped is the tab heard from least recently, the likeliest to
   * have gone without a goodbye, not a long-lived tab that keeps talking.
   */
  #tab(id: string): OtherTab {
    let tab = this.#tabs.get(id);
    if (tab) {
      this.#tabs.delete(id);
      this.#tabs.set(id, tab);
      return tab;
    }
    if (this.#tabs.size >= MAX_TABS) {
      // Dropped as a tab that went is, but it may still be there: what it sends is applied
      // (and it comes back into the table). What we asked of it goes to another tab that
      // has it, not a hello to all, which past MAX_TABS tabs would keep the table churning.
      const evicted = this.#remove(this.#tabs.keys().next().value!);
      if (evicted?.pull) this.#askAgain();
    }
    tab = { clients: new Set(), answered: false };
    this.#tabs.set(id, tab);
    this.#events.emit('tabs', { count: this.#tabs.size });
    return tab;
  }

  #drop(reason: string): void {
    this.#log(`dropped a message from another tab: ${reason}`);
    this.#events.emit('dropped', { reason });
  }

  /** Run a presence change whose listeners (the app's) may throw; log, never unwind into the channel. */
  #quietly(change: () => void): void {
    quietly(this.#log, change);
  }
}

/**
 * Sync `doc` with the other tabs of this browser that use the same `options.name`, over
 * a BroadcastChannel: no room, relay or WebRTC needed, so tabs stay in sync offline. Use
 * it beside a provider (they share the doc and the Awareness); both are needed for
 * people in other browsers. Throws `bad-argument` for a bad option (naming it), and
 * `broadcast-channel-unsupported` without a BroadcastChannel.
 *
 * @example
 * ```ts
 * const doc = new Y.Doc();
 * const awareness = new Awareness(doc);
 * const tabs = createTabSync(doc, { name: `notes:${room}:main`, awareness });
 * addEventListener('pagehide', () => tabs.destroy());
 * // later, once the relay answers:
 * const provider = createYjsProvider(await joinRoom({ relay, room }), doc, { name: 'main', awareness });
 * ```
 */
export function createTabSync(doc: Y.Doc, options: TabSyncOptions): TabSync {
  return new TabSync(doc, options);
}
