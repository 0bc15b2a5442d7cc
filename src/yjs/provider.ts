/**
 * A Yjs provider over a meshparty room: syncs one Y.Doc with every peer of the room on
 * its own channel (`yjs:<name>`), so several documents share one room and its
 * connections. Sync is y-protocols' two steps (state vector, then only what is
 * missing), updates follow as they happen (merged while a channel is busy), presence is
 * y-protocols awareness.
 */
import * as Y from 'yjs';
import { Awareness, applyAwarenessUpdate, encodeAwarenessUpdate, removeAwarenessStates } from 'y-protocols/awareness';
import type { Channel, PeerId, Room, RoomStatus } from '../mesh/types.js';
import { Emitter } from '../util/emitter.js';
import { realClock, type Clock } from '../util/clock.js';
import { MeshpartyError } from '../util/errors.js';
import {
  Step1Kind,
  YjsTag,
  decodeYjsMessage,
  encodeAwareness,
  encodeSyncStep1,
  encodeUpdate,
  type YjsLimits,
} from './protocol.js';
import { PeerOutbox, type OutboxFailure, type OutboxStats } from './outbox.js';
import { CATALOG_CHANNEL, docChannelName, encodeAnnounce, MAX_DOC_NAME_LENGTH } from './catalog.js';
import { cutOffPeer, strikePeer } from './cut-off.js';
import { linksChannelName } from './forwarding.js';
import { Forwarder } from './forwarder.js';
import { DEFAULT_BLOCK_FOR_MS, PeerBlocks, type PeerBlockCounts } from './peer-blocks.js';
import { clientsAfter, quietly, removeSenderPresence } from './presence-senders.js';
import { takeOverPresenceCheck } from './presence-check.js';
import { onDocDestroyed } from './doc-destroyed.js';
import { resolveYjsLimits } from './yjs-limits.js';

/**
 * Options of {@link createYjsProvider}.
 *
 * @example
 * ```ts
 * const options: YjsProviderOptions = {
 *   name: 'notes/today',
 *   limits: { maxUpdateBytes: 16 * 1024 * 1024 }, // refuse updates over 16 MiB from peers
 *   maxStrikes: 5,
 * };
 * const provider = createYjsProvider(room, doc, options);
 * ```
 */
export interface YjsProviderOptions {
  /** The document's name in the room; peers with the same name share the document. */
  name: string;
  /** Presence to share (its local state outlives the provider); a new Awareness on `doc` when omitted. */
  awareness?: Awareness;
  /**
   * Size limits for what peers send (defaults: 64 MiB updates, 1 MiB presence, 64 presence
   * clients per peer). One left out or `undefined` keeps its default; any other must be a
   * whole number of at least 1, or Infinity (no limit), else `bad-argument`.
   */
  limits?: Partial<YjsLimits>;
  /** Bad messages from one peer before it is disconnected (default 3). */
  maxStrikes?: number;
  /**
   * How long a peer disconnected for bad messages stays blocked after it leaves (default
   * 10 minutes): the room is asked to refuse it that long (`Room.disconnect`'s `banMs`;
   * the mesh does), and one that rejoins under the same id meanwhile anyway is cut off
   * again. A blocked peer that stays in the room stays blocked.
   */
  blockForMs?: number;
  /** Say which documents we serve on the room's catalog channel (default true; the keeper listens). */
  announce?: boolean;
  /**
   * Timers (default: the real clock), the presence check's too: the provider runs the
   * Awareness's 15 s renewal and 30 s timeout on it, and after a stall of its timers (a
   * frozen tab, a laptop asleep) counts connected peers' presence as renewed then. An
   * Awareness shared with other providers or a tab sync has one check, on the clock of
   * the one that took it first, moving to another's when every holder of that one stops.
   */
  clock?: Clock;
  /** Where dropped messages and send failures are reported (default console.warn). */
  log?: (message: string) => void;
}

/**
 * Connection summary emitted as `status` (a superset of y-webrtc's `{ connected }`).
 *
 * @example
 * ```ts
 * provider.on('status', ({ connected, status, peers }: YjsProviderStatus) =>
 *   (badge.textContent = connected ? `${peers} online` : status === 'reconnecting' ? 'reconnecting…' : 'offline'));
 * ```
 */
export interface YjsProviderStatus {
  connected: boolean;
  status: RoomStatus;
  /** Peers currently connected in the room. */
  peers: number;
}

/**
 * Events of a {@link MeshpartyProvider}; every `on()` returns its unsubscribe function.
 *
 * @example
 * ```ts
 * const off = provider.on('synced', ({ synced }) => spinner.toggle(!synced));
 * provider.on('dropped', ({ from, reason }) => console.warn(`ignored a message from ${from}: ${reason}`));
 * off();
 * ```
 */
export interface YjsProviderEvents {
  /** Every connected peer answered our sync request (true), or a new peer has not yet (false). */
  synced: { synced: boolean };
  status: YjsProviderStatus;
  /** One peer answered our sync request. */
  'peer-synced': { peer: PeerId };
  /** A message from a peer was dropped; nothing of it was applied. */
  dropped: { from: PeerId; reason: string };
  /**
   * A message to a peer was given up (a refusal that may pass, `queue-full`, is retried
   * instead and not reported here, and so is an update that was too large only because
   * edits were merged into it: it is sent again in parts). `error.code` says why:
   * `message-too-large` (one edit or sync step over the room's `maxMessageBytes`: raise
   * it), or the connection is gone (`unknown-peer`, `peer-left`,
   * `closed`), when the next connection syncs from scratch. `kind` is what was lost:
   * a `sync` step or an `update` means the peer may miss edits until it reconnects. A
   * destroyed provider's goodbye (our presence removed) given up is not reported: mostly
   * its connection is gone, and the peer drops our presence with it.
   *
   * @example
   * ```ts
   * provider.on('send-failed', ({ to, kind, error }) => console.warn(`${kind} to ${to} lost: ${error.code}`));
   * ```
   */
  'send-failed': { to: PeerId; kind: 'sync' | 'update' | 'presence'; error: MeshpartyError };
}

interface PeerSync {
  outbox: PeerOutbox;
  /** It answered our step 1 with a step 2. */
  synced: boolean;
  /** We answered one of its step 1s (so a recheck needs no answer). */
  answered: boolean;
  /** We sent it a hello again (see #resync): the recheck it answers with is answered too. */
  resyncing: boolean;
  /** It sent us document content (a step 2 or an update). */
  gave: boolean;
  /** Awareness client ids it spoke for, removed when it leaves. */
  clients: Set<number>;
  /**
   * Of `clients`, those it passed on for other peers (forwardedAwareness): they are not its
   * own, so we never pass them on as its presence (one hop: see Forwarder).
   */
  relayed: Set<number>;
}

/**
 * A Yjs provider over a meshparty room, close to y-webrtc's `WebrtcProvider`: it has
 * `doc`, `awareness`, `synced`, `on('synced' | 'status')` and `destroy()`. It does not
 * own the room: `destroy()` leaves the room open for other documents.
 *
 * @example
 * ```ts
 * const room = await joinRoom({ relay: 'ws://127.0.0.1:4444', room: 'notes' });
 * const doc = new Y.Doc();
 * const provider = new MeshpartyProvider(room, doc, { name: 'main' });
 * provider.on('synced', ({ synced }) => console.log('synced', synced));
 * ```
 */
export class MeshpartyProvider {
  readonly room: Room;
  readonly doc: Y.Doc;
  readonly name: string;
  readonly awareness: Awareness;
  /**
   * Messages and bytes this provider has sent (all peers); `forwarded` counts those that
   * passed on another peer's edits or presence to a peer not connected to it.
   */
  readonly stats: OutboxStats & { forwarded: number } = { messages: 0, bytes: 0, forwarded: 0 };

  #channel: Channel;
  /** Passes on what peers send to peers not connected to them (forwarder.ts). */
  #forwarder: Forwarder;
  #limits: YjsLimits;
  #clock: Clock;
  #log: (message: string) => void;
  #events = new Emitter<YjsProviderEvents>();
  #peers = new Map<PeerId, PeerSync>();
  #blocks: PeerBlocks;
  /** How long a blocked peer stays blocked after it leaves: the room refuses it that long (cutOffPeer). */
  readonly #blockForMs: number;
  #synced = false;
  #destroyed = false;
  /** Listeners, outboxes and presence released (destroy() inside a transaction waits for its end). */
  #tornDown = false;
  #announce: boolean;
  /** We created the Awareness, so we stop its renewal timer on destroy. */
  #ownsAwareness: boolean;
  /** Our Awareness is being destroyed with the doc (see onDocDestroyed): not destroyed again by teardown. */
  #awarenessGoing = false;
  #unsubscribe: Array<() => void> = [];

  constructor(room: Room, doc: Y.Doc, options: YjsProviderOptions) {
    if (!options.name || options.name.length > MAX_DOC_NAME_LENGTH) {
      throw new MeshpartyError('invalid-doc-name', `document name must be 1..${MAX_DOC_NAME_LENGTH} characters`);
    }
    // Checked before anything is set up: a bad limit throws bad-argument, leaving nothing.
    this.#limits = resolveYjsLimits(options.limits);
    this.room = room;
    this.doc = doc;
    this.name = options.name;
    this.#announce = options.announce ?? true;
    // The channels first: either can throw (its name already taken with the other
    // reliability), and then nothing of this provider may be left behind (no listener on
    // the doc, no Awareness with its renewal timer).
    this.#channel = room.channel(docChannelName(this.name), { reliability: 'reliable' });
    const catalog = this.#announce ? room.channel(CATALOG_CHANNEL, { reliability: 'reliable' }) : undefined;
    const links = room.channel(linksChannelName(this.name), { reliability: 'reliable' });
    // Two providers of one document name in a room would both apply and answer every
    // message of it (to two docs, or twice to one): the second is refused, having set up
    // nothing, until the first is destroyed.
    this.#unsubscribe.push(this.#channel.claim(`a provider of document "${this.name}" (destroy() it first)`));
    this.awareness = options.awareness ?? new Awareness(doc);
    this.#ownsAwareness = !options.awareness;
    this.#clock = options.clock ?? realClock();
    const blockForMs = options.blockForMs ?? DEFAULT_BLOCK_FOR_MS;
    this.#blockForMs = blockForMs >= 0 ? blockForMs : 0; // a room throws on a negative or NaN ban, and would then not cut the peer off
    this.#blocks = new PeerBlocks(options.maxStrikes ?? 3, blockForMs, this.#clock);
    this.#log = options.log ?? ((m) => console.warn(`[meshparty yjs ${this.name}] ${m}`));
    this.#forwarder = new Forwarder(links, {
      get selfId() {
        return room.selfId;
      },
      peers: this.#peers,
      awareness: this.awareness,
      clock: this.#clock,
      stopped: () => this.#destroyed,
      resync: (ids) => this.#resync(ids.flatMap((id) => this.#peers.get(id) ?? [])),
      strike: (from, reason) => this.#strike(from, reason),
    });

    const onUpdate = (update: Uint8Array, origin: unknown) => {
      if (origin === this) return; // came from a peer: its author sent it to everyone it reaches (forwarding: #receive)
      let message: Uint8Array | undefined;
      const encoded = () => (message ??= encodeUpdate(YjsTag.Update, update));
      for (const peer of this.#peers.values()) peer.outbox.update(update, encoded);
    };
    // Listen for updates only around transactions that are not a peer's update being
    // applied: Yjs encodes a transaction's update only when someone listens, and a
    // received update needs no second encoding just for us to ignore it (a receiver
    // then does less per edit, and a late joiner's whole document is not encoded again).
    let listening = false;
    const listen = (on: boolean) => {
      if (on === listening) return;
      listening = on;
      if (on) doc.on('update', onUpdate);
      else doc.off('update', onUpdate);
    };
    const onBeforeTransaction = (transaction: Y.Transaction) => listen(transaction.origin !== this);
    listen(true);
    doc.on('beforeTransaction', onBeforeTransaction);
    this.#unsubscribe.push(() => {
      doc.off('beforeTransaction', onBeforeTransaction);
      listen(false);
    });
    // At once, even inside a transaction: a destroyed doc drops every listener, so the
    // wait for its transaction to end (see destroy()) would never end. Nor does it emit
    // that transaction's update: what the open transactions not applied from a peer have
    // changed is sent now (from the first one's state: some of it perhaps again, which
    // Yjs ignores), or an edit whose observer destroyed the doc would never leave.
    const onDocDestroy = () => {
      const open = doc._transactionCleanups.find((t) => t.origin !== this);
      if (open && !this.#tornDown) onUpdate(Y.encodeStateAsUpdate(doc, Y.encodeStateVector(open.beforeState)), undefined);
      this.#stop(false);
    };
    // Also when an app listener throws as doc.destroy() destroys our Awareness (see doc-destroyed.ts).
    this.#unsubscribe.push(
      onDocDestroyed(doc, this.awareness, (awarenessGoing) => {
        if (awarenessGoing) this.#awarenessGoing = true;
        onDocDestroy();
      }),
    );

    const onAwareness = ({ added, updated, removed }: AwarenessChanges, origin: unknown) => {
      if (origin === this) return;
      const self = this.awareness.clientID;
      if (![...added, ...updated, ...removed].includes(self)) return;
      for (const peer of this.#peers.values()) peer.outbox.awareness(() => this.#encodeLocalAwareness());
    };
    this.awareness.on('update', onAwareness);
    this.#unsubscribe.push(() => this.awareness.off('update', onAwareness));
    // Presence timeouts on our clock, and not held against connected peers for the time
    // this page was frozen or asleep (presence-check.ts). Our own Awareness is not handed
    // back to y-protocols' interval: it is destroyed with us.
    const spokenFor = () => [...this.#peers.values()].flatMap((p) => [...p.clients]);
    this.#unsubscribe.push(takeOverPresenceCheck(this.awareness, this.#clock, spokenFor, !this.#ownsAwareness));

    this.#unsubscribe.push(
      this.#channel.on('message', ({ from, data }) => this.#receive(from, data)),
      this.#forwarder.listen(),
      room.on('peer-joined', ({ id }) => {
        // A block outlives the peer by blockForMs, and the mesh refuses a peer we cut off
        // (Room.disconnect) that long; a room that lets it back sooner (one written before
        // Room.disconnect's banMs) sees it cut off again (after this event has reached every
        // listener: a drop in the middle would have later ones open a session for a peer
        // already gone). Once the block has run out it starts afresh, with no strikes,
        // rather than be ignored while connected (no sync, no error) for as long as we live.
        if (this.#blocks.joined(id)) {
          this.#log(`${id} rejoined while blocked for bad messages: disconnecting it again`);
          queueMicrotask(() => {
            if (!this.#destroyed && this.room.peers.has(id)) cutOffPeer(this.room, id, `rejoined while blocked for bad messages on ${this.#channel.name}`, this.#blockForMs);
          });
        } else {
          this.#ensurePeer(id);
        }
        this.#emitStatus();
      }),
      room.on('peer-left', ({ id, reason }) => {
        const gone = this.#peers.get(id);
        this.#blocks.left(id);
        this.#removePeer(id);
        if (gone?.gave && reason !== 'closed') this.#resync(); // ('closed': we are leaving)
        this.#emitStatus();
      }),
      // Before the room says goodbye to anyone: hand every peer's merged edits to its
      // connection now, ahead of the goodbye (at 'closed' the peers are gone and what an
      // outbox still held was dropped). The provider itself stops at 'closed', as before.
      room.on('leaving', () => {
        for (const peer of this.#peers.values()) peer.outbox.drainAndClose();
      }),
      room.on('status', (status) => {
        this.#emitStatus();
        // A closed room never opens again, and the Awareness's renewal timer would keep this
        // provider, its doc and the room alive for as long as the page or process runs.
        if (status === 'closed') this.destroy();
      }),
    );
    if (catalog) {
      const announce = encodeAnnounce([this.name]);
      catalog.broadcast(announce).catch(() => {});
      this.#unsubscribe.push(room.on('peer-joined', ({ id }) => void catalog.send(id, announce).catch(() => {})));
    }
    for (const id of room.peers.keys()) this.#ensurePeer(id);
    // Made on a room already closed: no status change will come to stop it (above), and
    // its Awareness timer would keep it, the doc and the room for as long as the page runs.
    if (room.status === 'closed') this.destroy();
  }

  /** True when every connected peer has answered our sync request. */
  get synced(): boolean {
    return this.#synced;
  }

  /** Peers this document is connected to, and whether each has answered our sync request. */
  get peers(): ReadonlyMap<PeerId, { synced: boolean }> {
    return new Map([...this.#peers].map(([id, p]) => [id, { synced: p.synced }]));
  }

  /** @internal For tests and debugging: how many peers the strike and block bookkeeping holds. */
  get blockCounts(): PeerBlockCounts {
    return this.#blocks.counts;
  }

  /** True when nothing is queued or in flight towards any peer. */
  get idle(): boolean {
    return [...this.#peers.values()].every((p) => p.outbox.idle);
  }

  /** Subscribe to provider events; returns the unsubscribe function. */
  on<K extends keyof YjsProviderEvents>(event: K, listener: (value: YjsProviderEvents[K]) => void): () => void {
    return this.#events.on(event, listener);
  }

  /**
   * Stop syncing: send the edits and sync answers still queued for each peer (so an edit
   * typed just before is not lost to peers that stay; one refused while the peer's queue
   * is full is retried for up to 5 minutes, or until the peer leaves), tell peers our
   * presence is gone, unsubscribe (and destroy the Awareness if the provider created it;
   * one the app passed keeps its local state, for tab sync or a provider opened later).
   * Idempotent; the room stays open. Called by itself when the doc is destroyed or the
   * room closes (`room.leave()`, or a room that ends for good; at once for a provider made
   * on a room already closed), so leaving a room releases its providers. An awareness
   * listener of the app that throws meanwhile is logged, not rethrown. Called inside a
   * transaction (an observer that closes the document when an edit says so), it stops
   * once the transaction is over, so that edit is sent too: Yjs emits a transaction's
   * update after its observers.
   */
  destroy(): void {
    this.#stop(true);
  }

  #stop(waitForTransaction: boolean): void {
    if (this.#tornDown) return;
    const waiting = this.#destroyed;
    this.#destroyed = true; // nothing more is received or synced from here
    const doc = this.doc;
    if (waitForTransaction && (doc._transaction !== null || doc._transactionCleanups.length > 0)) {
      if (!waiting) doc.once('afterAllTransactions', () => this.#teardown());
      return;
    }
    this.#teardown();
  }

  #teardown(): void {
    if (this.#tornDown) return;
    this.#tornDown = true;
    for (const off of this.#unsubscribe) off();
    const self = this.awareness.clientID;
    // Presence changes run the app's awareness listeners, which may throw (its UI already
    // torn down): that must not stop the teardown halfway, with queues and timers alive.
    // The app's own Awareness keeps its local state: others may share it (tab sync shows
    // this tab to the other tabs through it, room or not), so the goodbye says our state
    // is gone at its current clock, which removes it at a peer that has it.
    if (this.#ownsAwareness && this.awareness.getLocalState() !== null) this.#presenceChange(() => removeAwarenessStates(this.awareness, [self], this));
    const goodbye = this.awareness.meta.has(self) ? encodeAwareness(encodeAwarenessUpdate(this.awareness, [self], new Map())) : undefined;
    this.#forwarder.close(); // we forward no more: the peers stop counting on us
    const peers = [...this.#peers];
    this.#peers.clear();
    for (const [, peer] of peers) {
      // Not dropped: the peer stays in the room and would miss these edits until this
      // document is opened here again (never, if it is not kept anywhere). The goodbye
      // too, retried if the peer's queue is full.
      peer.outbox.drainAndClose(goodbye);
      this.#removeRemoteAwareness(peer);
    }
    this.#events.clear();
    if (this.#ownsAwareness && !this.#awarenessGoing) this.#presenceChange(() => this.awareness.destroy());
  }

  #ensurePeer(id: PeerId): PeerSync | undefined {
    if (this.#destroyed || this.#blocks.isBlocked(id) || id === this.room.selfId) return undefined;
    let peer = this.#peers.get(id);
    if (peer) return peer;
    const outbox = new PeerOutbox(
      { send: (bytes) => this.#channel.send(id, bytes), queuedBytes: () => this.#channel.queuedBytes(id) },
      this.#clock,
      this.stats,
      (failure) => this.#sendFailed(id, failure),
    );
    peer = { outbox, synced: false, answered: false, resyncing: false, gave: false, clients: new Set(), relayed: new Set() };
    this.#peers.set(id, peer);
    this.#forwarder.changed();
    outbox.control(encodeSyncStep1(Step1Kind.Hello, Y.encodeStateVector(this.doc)));
    if (this.awareness.getLocalState() !== null) outbox.awareness(() => this.#encodeLocalAwareness());
    this.#setSynced(false);
    return peer;
  }

  /**
   * A peer that gave us document content has left. Updates are forwarded only between
   * peers known to be apart for a while (forwarding.ts), so what it sent while its link to
   * some peer was down for a moment (or to an older peer, which says nothing of its links)
   * reached only the others, and once it is gone nobody would pass it on: the peers that
   * hold it and the peers that lack it stay connected and never sync again (and Yjs holds
   * back every later edit that depends on it). Sync again with every remaining peer: a
   * hello, always answered with what we lack, and our answer to the recheck that follows
   * it, with what the peer lacks. Also for the targets of forwarding duties we take on
   * (`peers`), which lack what nobody forwarded to them so far.
   */
  #resync(peers: Iterable<PeerSync> = this.#peers.values()): void {
    if (this.#destroyed) return;
    const hello = encodeSyncStep1(Step1Kind.Hello, Y.encodeStateVector(this.doc));
    for (const peer of peers) {
      peer.resyncing = true;
      peer.outbox.control(hello, 'resync');
    }
  }

  #removePeer(id: PeerId): void {
    const peer = this.#peers.get(id);
    if (!peer) return;
    peer.outbox.close();
    this.#forwarder.gone(id);
    this.#peers.delete(id);
    this.#removeRemoteAwareness(peer);
    this.#recomputeSynced();
  }

  #removeRemoteAwareness(peer: PeerSync): void {
    // (The caller has already forgotten `peer`; a client another peer still speaks for stays.)
    const stillHere = new Set([...this.#peers.values()].flatMap((p) => [...p.clients]));
    removeSenderPresence(this.awareness, peer.clients, stillHere, this, (change) => this.#presenceChange(change));
  }

  /**
   * Forget the clients `peer` says are gone (their provider was destroyed): y-protocols
   * keeps a removed client's clock for good, and a peer that stays while it switches
   * documents leaves one more each time (a new Y.Doc, a new client id). Safe, since each
   * peer speaks only for its own clients, in order; one that comes back is simply new.
   */
  #forgetRemoved(peer: PeerSync, entries: ReadonlyArray<{ clientId: number; state: unknown }>): void {
    for (const { clientId, state } of entries) {
      if (state !== null || clientId === this.awareness.clientID || this.awareness.states.has(clientId)) continue;
      peer.clients.delete(clientId);
      peer.relayed.delete(clientId);
      if (![...this.#peers.values()].some((p) => p.clients.has(clientId))) this.awareness.meta.delete(clientId);
    }
  }

  #receive(from: PeerId, data: Uint8Array): void {
    if (this.#destroyed || this.#blocks.isBlocked(from)) return;
    const decoded = decodeYjsMessage(data, this.#limits);
    if (!decoded.ok) return this.#strike(from, decoded.reason);
    const m = decoded.message;
    // A message can race the room's peer-left; apply its edits but open no new session.
    const peer = this.#peers.get(from) ?? (this.room.peers.has(from) ? this.#ensurePeer(from) : undefined);
    if (!peer) {
      if (m.tag === YjsTag.SyncStep2 || m.tag === YjsTag.Update || m.tag === YjsTag.ForwardedUpdate) this.#apply(from, m.update);
      return;
    }
    switch (m.tag) {
      case YjsTag.SyncStep1:
        if (m.kind === Step1Kind.Hello || !peer.answered || peer.resyncing) {
          peer.answered = true;
          if (m.kind === Step1Kind.Recheck) peer.resyncing = false;
          // Encoded when sent, from the document as it is then: hellos that pile up while
          // the channel is busy cost one encoding of the document, not one each.
          const { stateVector } = m;
          peer.outbox.control(() => encodeUpdate(YjsTag.SyncStep2, Y.encodeStateAsUpdate(this.doc, stateVector)), 'step2');
        }
        if (m.kind === Step1Kind.Hello) {
          peer.outbox.control(encodeSyncStep1(Step1Kind.Recheck, Y.encodeStateVector(this.doc)), 'recheck');
          // A hello means its provider has just opened this document: the presence we sent
          // before then was dropped at its end (no channel yet), so send it again.
          if (this.awareness.getLocalState() !== null) peer.outbox.awareness(() => this.#encodeLocalAwareness());
          this.#forwarder.sendLinks(from); // what we sent before was dropped at its end too
        }
        break;
      case YjsTag.ForwardedUpdate:
        this.#apply(from, m.update);
        peer.gave = true;
        break;
      case YjsTag.SyncStep2:
      case YjsTag.Update:
        this.#apply(from, m.update);
        peer.gave = true;
        this.#forwarder.update(from, m.update);
        if (m.tag === YjsTag.SyncStep2 && !peer.synced) {
          peer.synced = true;
          this.#events.emit('peer-synced', { peer: from });
          this.#recomputeSynced();
        }
        break;
      case YjsTag.Awareness:
      case YjsTag.ForwardedAwareness: {
        // A peer speaks for its own clients only. y-protocols would take a newer state for
        // ours as our local state: we would show it and send it to everyone as ourselves.
        // Presence passed on speaks for another peer's (counted as the forwarder's, gone
        // when it goes), which the forwarder could not check against ours or our limit:
        // dropped, but no strike.
        const self = this.awareness.clientID;
        const forwarded = m.tag === YjsTag.ForwardedAwareness;
        const bad = m.entries.some((e) => e.clientId === self) ? `presence for our own client ${self}` : this.#tooManyClients(peer, m.entries);
        if (bad && forwarded) return this.#dropped(from, `forwarded ${bad}`);
        if (bad) return this.#strike(from, bad);
        for (const e of m.entries) {
          peer.clients.add(e.clientId);
          if (forwarded) peer.relayed.add(e.clientId);
          else peer.relayed.delete(e.clientId);
        }
        this.#presenceChange(() => applyAwarenessUpdate(this.awareness, m.update, this));
        this.#forgetRemoved(peer, m.entries);
        if (!forwarded) this.#forwarder.presence(from, m.update, m.entries.map((e) => e.clientId));
        break;
      }
    }
  }

  /** Why `entries` would take `peer` past the presence clients one peer may speak for, if they would. */
  #tooManyClients(peer: PeerSync, entries: ReadonlyArray<{ clientId: number; state: unknown }>): string | undefined {
    const max = this.#limits.maxPresenceClients;
    if (peer.clients.size + entries.length <= max) return undefined; // the usual case: no copy
    const after = clientsAfter(peer.clients, entries);
    return after.size > max ? `presence for ${after.size} clients, over ${max} for one peer` : undefined;
  }

  #apply(from: PeerId, update: Uint8Array): void {
    try {
      Y.applyUpdate(this.doc, update, this);
    } catch (err) {
      // The update was checked whole before this, so this is an observer's error, not the peer's.
      this.#log(`applying an update from ${from} threw: ${(err as Error).message}`);
    }
  }

  #dropped(from: PeerId, reason: string): void {
    this.#log(`dropped a message from ${from}: ${reason}`);
    this.#events.emit('dropped', { from, reason });
  }

  #strike(from: PeerId, reason: string): void {
    this.#dropped(from, reason);
    const { strikes, blocked } = this.#blocks.strike(from, this.room.peers.has(from));
    // The room counts it with the peer's bad input on other layers (its frames, other
    // documents, media, games): maxStrikes of the mesh across them all cut the peer off.
    if (!blocked) return strikePeer(this.room, from, `${this.#channel.name}: ${reason}`);
    this.#removePeer(from);
    this.#log(`disconnecting ${from} after ${strikes} bad messages`);
    cutOffPeer(this.room, from, `sent ${strikes} bad messages on ${this.#channel.name}`, this.#blockForMs);
  }

  #sendFailed(to: PeerId, { error, kind, retryInMs }: OutboxFailure): void {
    if (retryInMs !== undefined) return this.#log(`send of ${kind} to ${to} refused (${error.code}), retrying in ${retryInMs} ms`);
    this.#log(`gave up sending ${kind} to ${to}: ${error.code}: ${error.message}`);
    this.#events.emit('send-failed', { to, kind, error });
  }

  /** Run a presence change whose listeners (the app's) may throw; log, never unwind into our caller. */
  #presenceChange(change: () => void): void {
    quietly(this.#log, change);
  }

  #encodeLocalAwareness(): Uint8Array | undefined {
    const self = this.awareness.clientID;
    if (!this.awareness.meta.has(self)) return undefined;
    return encodeAwareness(encodeAwarenessUpdate(this.awareness, [self]));
  }

  #recomputeSynced(): void {
    if (this.#peers.size === 0) return; // alone: keep what we had
    this.#setSynced([...this.#peers.values()].every((p) => p.synced));
  }

  #setSynced(synced: boolean): void {
    if (synced === this.#synced) return;
    this.#synced = synced;
    this.#events.emit('synced', { synced });
  }

  #emitStatus(): void {
    if (this.#destroyed) return;
    this.#events.emit('status', {
      connected: this.room.status === 'connected' || this.#peers.size > 0,
      status: this.room.status,
      peers: this.room.peers.size,
    });
  }
}

interface AwarenessChanges {
  added: number[];
  updated: number[];
  removed: number[];
}

/**
 * Sync `doc` with every peer of `room` under `options.name`. One provider per name and
 * room at a time: a second throws `channel-in-use` until the first is destroyed (a bad
 * name throws `invalid-doc-name`).
 *
 * @example
 * ```ts
 * const doc = new Y.Doc();
 * const provider = createYjsProvider(room, doc, { name: 'notes' });
 * provider.awareness.setLocalStateField('user', { name: 'Ada', color: '#f80' });
 * ```
 */
export function createYjsProvider(room: Room, doc: Y.Doc, options: YjsProviderOptions): MeshpartyProvider {
  return new MeshpartyProvider(room, doc, options);
}
