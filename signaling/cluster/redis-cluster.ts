/**
 * Several relay instances sharing rooms through Redis. Each instance keeps a mirror of
 * every instance's members (shared-directory.ts), publishes its own changes and remote
 * deliveries on pub/sub over one connection (so per-sender order holds), and listens on
 * a second one. Membership is also stored in Redis, so an instance that starts or comes
 * back reads the others' members and sends them its own (`sync`).
 *
 * Liveness: each instance refreshes a heartbeat key (TTL `instanceTtlMs`) every
 * `heartbeatMs` and checks the others'; a member of an instance whose key expired (it
 * was SIGKILLed, or cut off from Redis) is announced as left by every other instance
 * within `instanceTtlMs + heartbeatMs` of its last heartbeat, and its resume keys are
 * remembered for the grace period, so its clients resume their ids on another instance.
 *
 * Redis lost: the instance keeps serving its own members (signals to members of other
 * instances get `unknown-peer`), and after `instanceTtlMs` also drops the other
 * instances' members (announcing them as left), as they drop ours. Back: it syncs and
 * announces the differences. Never throws after start; every failure is a log line.
 */
import { Redis, type ChainableCommander } from 'ioredis';
import type { RelayLogger } from '../logger.js';
import { roomSlot } from '../remembered-ids.js';
import type { RedisClusterOptions } from './create-redis-cluster.js';
import { parseClusterMessage, type ClusterMessage, type MemberTuple, type Namespace } from './messages.js';
import { RedisStore } from './redis-store.js';
import { ClusterError, type RelayCluster } from './relay-cluster.js';
import { SharedDirectory, type ClusterBus } from './shared-directory.js';
import { SharedKeys } from './shared-keys.js';

/** Messages held while a sync reads the others' state; past this the sync starts over. */
const MAX_HELD = 100_000;
/** Ids given up while cut off, kept for the next sync (see #givenUp); past this, oldest first dropped. */
const MAX_GIVEN_UP = 10_000;

/** One instance's membership of the cluster (internal: see createRedisCluster). */
export class RedisRelayCluster implements RelayCluster, ClusterBus {
  readonly rooms: SharedDirectory;
  readonly topics: SharedDirectory;
  readonly resumeKeys: SharedKeys;
  readonly #cmd: Redis;
  readonly #sub: Redis;
  readonly #store: RedisStore;
  readonly #log: RelayLogger;
  #synced = false;
  #closing = false;
  #closed: Promise<void> | undefined;
  /** Set while a sync runs: messages wait here, applied after the state it read. */
  #held: ClusterMessage[] | undefined;
  #syncing: Promise<void> | undefined;
  #resyncWanted = false;
  #beat: NodeJS.Timeout | undefined;
  #beating = false;
  /** Each connection's PING still waiting for its answer: when it was sent (see #probe). */
  readonly #pings = new Map<Redis, { at: number }>();
  #partition: NodeJS.Timeout | undefined;
  #outage = false;
  /** Connection losses (either connection) since start: a sync pass that saw one is not trusted. */
  #losses = 0;
  /** Instances not to be swept before this time (ms), though their heartbeat is missing. */
  readonly #spare = new Map<string, number>();
  /**
   * What this instance tells the cluster within one turn of the event loop, sent as one
   * MULTI ... EXEC at its end (see #queue): a membership change and its announcement (a
   * join's `add` and `peer-joined`, a leave's `del` and `peer-left`, a takeover's `del` and
   * `add`) reach the others together or not at all. Sent one by one, Redis lost between
   * two of them (restarted, or the link cut) left the others' mirrors changed and their
   * members never told, or told of a return whose `add` never came; a sync reconciles
   * mirrors with member lists, not with what members were told, so that view stayed wrong.
   */
  #batch: ChainableCommander | undefined;
  /** Run if the batch fails to go out (see #publishKey). */
  #batchLost: (() => void)[] = [];
  /**
   * Ids our members gave up (left, or closed on purpose) whose forgetting may not have
   * reached Redis, per `room\0id`: [room, id, key hash]. Cut off, the others may have swept
   * us, keeping each of our members' ids reserved for its key; after the next sync we
   * forget those still remembered by that key, so the ids are free as a leave promises.
   */
  readonly #givenUp = new Map<string, [string, string, string]>();

  constructor(
    options: RedisClusterOptions,
    private readonly prefix: string,
    readonly instanceId: string,
    private readonly heartbeatMs: number,
    private readonly ttlMs: number,
    private readonly graceMs: number,
  ) {
    const sink = options.logger ?? (() => {});
    this.#log = (entry) => {
      try {
        sink(entry);
      } catch {
        /* a throwing logger must not take the cluster down */
      }
    };
    // No offline queue: while Redis is away a command fails at once, rather than piling
    // up and replaying stale deliveries later; a sync rewrites the state on return.
    const connection = { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: (n: number) => Math.min(100 * n, 1000) };
    this.#cmd = new Redis(options.url, connection);
    // We subscribe again ourselves, in each sync pass, and await it before reading state:
    // ioredis's own resubscription is sent unawaited as it reports `ready` (our sync could
    // read state before it is in place), and when the connection drops again at once it
    // fails unhandled (an unhandledRejection) and is not tried again, leaving the
    // instance `ready` but deaf to the cluster for good.
    this.#sub = new Redis(options.url, { ...connection, autoResubscribe: false });
    this.#store = new RedisStore(this.#cmd, prefix, (reason) => this.#dropped(reason));
    this.rooms = new SharedDirectory('r', this);
    this.topics = new SharedDirectory('t', this);
    this.resumeKeys = new SharedKeys(this.rooms, (room, id, hash, ms, givenUp) => this.#publishKey(room, id, hash, ms, givenUp), Date.now);
    for (const conn of [this.#cmd, this.#sub]) {
      conn.on('error', (err: Error) => this.#lost(err));
      conn.on('close', () => this.#lost(undefined));
      conn.on('ready', () => this.#reconnected());
    }
    this.#sub.on('message', (_channel: string, text: string) => this.#onMessage(text));
  }

  get connected(): boolean {
    return this.#synced && !this.#outage;
  }

  get up(): boolean {
    return !this.#closing && this.#cmd.status === 'ready';
  }

  async start(timeoutMs: number): Promise<void> {
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(() => reject(new ClusterError('redis-unavailable', `could not reach Redis within ${timeoutMs} ms`)), timeoutMs).unref(),
    );
    try {
      await Promise.race([Promise.all([this.#cmd.connect(), this.#sub.connect()]), timeout]);
      await Promise.race([this.#sync(), timeout]); // subscribes too
    } catch (err) {
      this.#closing = true;
      this.#cmd.disconnect();
      this.#sub.disconnect();
      if (err instanceof ClusterError) throw err;
      throw new ClusterError('redis-unavailable', `Redis: ${err instanceof Error ? err.message : String(err)}`);
    }
    this.#beat = setInterval(() => void this.#heartbeat(), this.heartbeatMs);
    this.#beat.unref();
    this.#log({ level: 'info', event: 'cluster-joined', instance: this.instanceId, prefix: this.prefix });
  }

  close(): Promise<void> {
    return (this.#closed ??= this.#leave());
  }

  async #leave(): Promise<void> {
    this.#closing = true; // from here the relay's own departures stay local: `bye` tells them all
    clearInterval(this.#beat);
    clearTimeout(this.#partition);
    try {
      if (this.#cmd.status === 'ready') {
        const keyed = this.rooms.localMembers().filter(([, , , k]) => k !== '');
        const farewell = (async () => {
          for (const [, room, id, k] of keyed) this.#store.setRemembered(this.#queue(), room, id, k, this.graceMs);
          await this.#flush();
          await this.#store.unregister(this.instanceId);
          await this.#cmd.publish(this.#store.channelAll(), JSON.stringify({ t: 'bye', i: this.instanceId }));
        })();
        // A Redis that hangs must not hold the relay's shutdown: the heartbeat expiry covers it.
        const hang = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no answer within 2 s')), 2000).unref());
        await Promise.race([farewell, hang]);
      }
    } catch (err) {
      this.#log({ level: 'warn', event: 'cluster-leave-failed', code: 'redis-unavailable', error: String(err) });
    }
    this.#cmd.disconnect();
    this.#sub.disconnect();
    this.#log({ level: 'info', event: 'cluster-left', instance: this.instanceId });
  }

  // --- ClusterBus: this instance's changes, out to Redis (fire-and-forget, in order) ---

  added(ns: Namespace, room: string, id: string, k: string, n: string): void {
    if (!this.up) return; // a sync sends it later
    this.#store.addMember(this.#queue(), this.instanceId, ns, room, id, k, n);
    this.#publish(this.#store.channelAll(), { t: 'add', i: this.instanceId, ns, room, id, k, n });
  }

  removed(ns: Namespace, room: string, id: string, of: string, n: string): void {
    if (!this.up) return;
    this.#store.removeMember(this.#queue(), of, ns, room, id);
    this.#publish(this.#store.channelAll(), { t: 'del', i: this.instanceId, ns, room, id, of, n });
  }

  broadcast(ns: Namespace, room: string, frame: string, except: string): void {
    if (this.up) this.#publish(this.#store.channelAll(), { t: 'bcast', i: this.instanceId, ns, room, frame, except });
  }

  send(instance: string, ns: Namespace, room: string, id: string, frame: string): void {
    if (this.up) this.#publish(this.#store.channelOf(instance), { t: 'send', i: this.instanceId, ns, room, id, frame });
  }

  note(event: string, fields: Record<string, unknown>): void {
    this.#log({ level: 'warn', event, ...fields });
  }

  #publishKey(room: string, id: string, k: string, ms: number, givenUp?: string): void {
    const untold = (): void => {
      if (givenUp === undefined) return;
      this.#givenUp.delete(roomSlot(room, id));
      if (this.#givenUp.size >= MAX_GIVEN_UP) this.#givenUp.delete(this.#givenUp.keys().next().value!);
      this.#givenUp.set(roomSlot(room, id), [room, id, givenUp]);
    };
    if (!this.up) return untold();
    this.#store.setRemembered(this.#queue(), room, id, k, ms);
    this.#publish(this.#store.channelAll(), { t: 'key', i: this.instanceId, room, id, k, ms });
    this.#batchLost.push(untold);
  }

  #publish(channel: string, message: ClusterMessage): void {
    this.#queue().publish(channel, JSON.stringify(message));
  }

  /** This turn's batch (see #batch), sent once the turn's synchronous work is done. */
  #queue(): ChainableCommander {
    if (!this.#batch) {
      this.#batch = this.#cmd.multi();
      queueMicrotask(() => this.#run(this.#flush()));
    }
    return this.#batch;
  }

  /** Send the batch now: before any command sent outside it, so per-sender order holds. */
  #flush(): Promise<unknown> {
    const [batch, lost] = [this.#batch, this.#batchLost];
    this.#batch = undefined;
    this.#batchLost = [];
    if (!batch) return Promise.resolve();
    return batch.exec().catch((err: unknown) => {
      for (const f of lost) f();
      throw err;
    });
  }

  /** A command's failure is the connection's (logged by #lost); never an unhandled rejection. */
  #run(p: Promise<unknown>): void {
    p.catch(() => {});
  }

  // --- Incoming ---

  #onMessage(text: string): void {
    const parsed = parseClusterMessage(text);
    if (!parsed.ok) return this.#dropped(parsed.reason);
    const m = parsed.message;
    if (m.i === this.instanceId || this.#closing) return;
    if (this.#held) {
      if (this.#held.length >= MAX_HELD) this.#resyncWanted = true;
      else this.#held.push(m);
      return;
    }
    this.#apply(m);
  }

  #apply(m: ClusterMessage): void {
    try {
      const dir = 'ns' in m ? (m.ns === 'r' ? this.rooms : this.topics) : undefined;
      switch (m.t) {
        case 'add':
          return dir!.applyAdd(m.i, m.room, m.id, m.k, m.n);
        case 'del':
          dir!.applyDel(m.room, m.id, m.of, m.n, m.i);
          if (m.of === this.instanceId) this.#relist(m.ns, m.room, m.id, dir!.own(m.room, m.id));
          return;
        case 'bcast':
          return dir!.deliverLocal(m.room, m.frame, m.except, m.i);
        case 'send':
          return dir!.deliverTo(m.room, m.id, m.frame);
        case 'sync':
          this.rooms.replaceInstance(m.i, m.members.filter(([ns]) => ns === 'r'));
          this.topics.replaceInstance(m.i, m.members.filter(([ns]) => ns === 't'));
          return;
        case 'bye':
          return this.#gone(m.i, 'left');
        case 'key':
          return this.resumeKeys.apply(m.room, m.id, m.k, m.ms);
      }
    } catch (err) {
      this.#dropped(`handler-error: ${err instanceof Error ? err.name : 'unknown'}`);
    }
  }

  /**
   * Another instance took `id` over from us and struck it from our member list in Redis:
   * list it as it is now. A registration of ours made before we heard (a sync) may have
   * put it back, and a membership of ours that the takeover came too late for (`own`) must
   * stay listed.
   */
  #relist(ns: Namespace, room: string, id: string, own: MemberTuple | undefined): void {
    if (own) this.#store.addMember(this.#queue(), this.instanceId, ns, room, id, own[3], own[4] ?? '');
    else this.#store.removeMember(this.#queue(), this.instanceId, ns, room, id);
  }

  #dropped(reason: string): void {
    this.#log({ level: 'warn', event: 'cluster-message-dropped', code: 'cluster-bad-data', reason });
  }

  /** Instance `id` is gone: drop its members here (announcing them) and keep their resume keys. */
  #gone(id: string, why: 'left' | 'expired' | 'partitioned'): void {
    this.#spare.delete(id);
    const left = this.rooms.replaceInstance(id, []);
    const topics = this.topics.replaceInstance(id, []);
    for (const [, room, peerId, k] of left) if (k !== '') this.resumeKeys.apply(room, peerId, k, this.graceMs);
    if (left.length + topics.length > 0 || why !== 'partitioned') {
      this.#log({ level: 'info', event: 'cluster-instance-gone', instance: id, reason: why, members: left.length, subscriptions: topics.length });
    }
  }

  // --- Sync, heartbeat, outages ---

  /** Register our members, read everyone else's, and reconcile the mirror (announcing changes). */
  #sync(): Promise<void> {
    this.#resyncWanted = true;
    return (this.#syncing ??= (async () => {
      try {
        while (this.#resyncWanted && !this.#closing) {
          this.#resyncWanted = false;
          this.#held = [];
          const losses = this.#losses;
          // Subscribed (again: a lost connection drops its subscriptions) before anything is
          // read or sent, so no news published after the state we read can be missed.
          await this.#sub.subscribe(this.#store.channelAll(), this.#store.channelOf(this.instanceId));
          const own = [...this.rooms.localMembers(), ...this.topics.localMembers()];
          const known = new Set([...this.rooms.remoteInstances(), ...this.topics.remoteInstances()]);
          // Back from an outage, or our heartbeat found gone: Redis may have been emptied
          // (restarted, flushed), and then every instance we know is missing until its own
          // next heartbeat registers it again. Swept now, its members would be announced as
          // left and, a moment later, joined: each gets a TTL to come back first.
          if (this.#synced) for (const id of known) this.#spare.set(id, Math.max(this.#spare.get(id) ?? 0, Date.now() + this.ttlMs));
          // Both sent now, with the snapshot `own` is: a member added or removed while the
          // answer is on its way is published after the sync. Published after the answer,
          // the stale snapshot came after that change and undid it everywhere (a member
          // lost for good, or a ghost).
          const sync: ClusterMessage = { t: 'sync', i: this.instanceId, members: own };
          this.#run(this.#flush());
          await Promise.all([this.#store.register(this.instanceId, own, this.ttlMs), this.#cmd.publish(this.#store.channelAll(), JSON.stringify(sync))]);
          const { alive, dead } = await this.#store.instances(this.instanceId, known);
          const state = await Promise.all(alive.map(async (id) => [id, await this.#store.members(id)] as const));
          const remembered = await this.#store.remembered();
          for (const id of dead) await this.#sweep(id);
          for (const [id, members] of state) {
            this.rooms.replaceInstance(id, members.filter(([ns]) => ns === 'r'));
            this.topics.replaceInstance(id, members.filter(([ns]) => ns === 't'));
          }
          for (const [room, id, k, ms] of remembered) this.resumeKeys.apply(room, id, k, ms);
          const held = this.#held;
          this.#held = undefined;
          for (const m of held) this.#apply(m);
          if (this.#losses !== losses) {
            // A connection dropped during the pass: news may have been lost with it (or the
            // subscription itself). Go again; a pass on a connection still down fails, and
            // the heartbeat retries the sync once Redis is back.
            this.#resyncWanted = true;
            continue;
          }
          const givenUp = [...this.#givenUp.values()];
          this.#givenUp.clear();
          for (const [room, id, k] of givenUp) this.resumeKeys.forgetGivenUp(room, id, k);
          this.#synced = true;
          this.#outage = false;
          clearTimeout(this.#partition);
          this.#partition = undefined;
          this.#log({ level: 'info', event: 'cluster-synced', instance: this.instanceId, instances: alive.length + 1, members: own.length });
        }
      } finally {
        if (this.#held) {
          // Failed part way: apply what came in (the next sync corrects the rest).
          const held = this.#held;
          this.#held = undefined;
          for (const m of held) this.#apply(m);
        }
        this.#syncing = undefined;
      }
    })());
  }

  /** A dead instance: sweep its state from Redis (unless it came back) and drop its members here. */
  async #sweep(id: string): Promise<void> {
    if ((this.#spare.get(id) ?? 0) > Date.now()) return; // see #sync
    this.#spare.delete(id);
    const members = await this.#store.sweep(id);
    if (members === undefined) return; // its heartbeat is back: not dead after all
    for (const [ns, room, peerId, k] of members) if (ns === 'r' && k !== '') this.#store.setRemembered(this.#queue(), room, peerId, k, this.graceMs, true);
    this.#gone(id, 'expired');
  }

  async #heartbeat(): Promise<void> {
    if (this.#unanswered() >= this.ttlMs) {
      // Timers run before sockets are read: after an event loop held up this long, the
      // answer may be waiting unread. Judge once it has been read.
      await new Promise((resolve) => setImmediate(resolve));
      const waited = this.#unanswered();
      if (waited >= this.ttlMs && !this.#closing) return this.#unresponsive(waited);
    }
    this.#probe();
    if (this.#outage) return this.#reconnected(); // a sync that failed on return is tried again
    if (!this.up || this.#syncing || this.#beating) return;
    this.#beating = true; // a slow Redis must not stack beats up
    try {
      const fresh = await this.#store.heartbeat(this.instanceId, this.ttlMs);
      // Our key had expired: the others may have swept us. Tell them our members again.
      if (!fresh) {
        this.#log({ level: 'warn', event: 'cluster-heartbeat-late', code: 'redis-unavailable', instance: this.instanceId });
        return await this.#sync();
      }
      const known = new Set([...this.rooms.remoteInstances(), ...this.topics.remoteInstances()]);
      const { dead } = await this.#store.instances(this.instanceId, known);
      for (const id of dead) await this.#sweep(id);
    } catch {
      /* the connection's own events report the outage */
    } finally {
      this.#beating = false;
    }
  }

  /**
   * PING each ready connection that has no PING unanswered, at every heartbeat tick, even
   * while a heartbeat or a sync waits: a PING is one round trip behind what was sent
   * before it, so it is answered within moments by a Redis that answers at all.
   */
  #probe(): void {
    for (const conn of [this.#cmd, this.#sub]) {
      if (conn.status !== 'ready' || this.#pings.has(conn)) continue;
      const ping = { at: Date.now() };
      this.#pings.set(conn, ping);
      // Answered or failed (the connection lost): forget it, unless a newer one replaced it.
      const settled = (): void => void (this.#pings.get(conn) === ping && this.#pings.delete(conn));
      conn.ping().then(settled, settled);
    }
  }

  /** How long the oldest unanswered PING has waited (0: none). */
  #unanswered(): number {
    const oldest = Math.min(...[...this.#pings.values()].map((p) => p.at));
    return oldest === Infinity ? 0 : Date.now() - oldest;
  }

  /**
   * Redis has not answered a PING for `instanceTtlMs`: hung, or the link silently cut (no
   * reset, so TCP may not give up for many minutes). Without this
   * the instance went on as connected, though the others had swept it by then: its
   * members were told of peers long announced to those peers as gone, and what it
   * published piled up in memory. Both connections are dropped as a reset would drop
   * them: their commands fail, and the outage, reconnection and sync on return go as for
   * any lost link.
   */
  #unresponsive(waitedMs: number): void {
    this.#log({ level: 'error', event: 'redis-unresponsive', code: 'redis-unavailable', instance: this.instanceId, waitedMs });
    this.#pings.clear(); // the dropped PINGs fail on their own; new ones go on the new connections
    const error = new Error(`Redis did not answer within ${waitedMs} ms`);
    for (const conn of [this.#cmd, this.#sub]) conn.stream?.destroy(error);
  }

  #lost(err: Error | undefined): void {
    if (this.#closing) return;
    this.#losses++;
    if (!this.#synced) return;
    if (!this.#outage) {
      this.#outage = true;
      this.#log({ level: 'error', event: 'redis-unavailable', code: 'redis-unavailable', instance: this.instanceId, error: err?.message ?? 'connection closed' });
      // As the others will drop our members once our heartbeat expires, we drop theirs.
      this.#partition = setTimeout(() => {
        const others = new Set([...this.rooms.remoteInstances(), ...this.topics.remoteInstances()]);
        this.#log({ level: 'warn', event: 'redis-partitioned', code: 'redis-unavailable', instance: this.instanceId, instances: others.size });
        for (const id of others) this.#gone(id, 'partitioned');
      }, this.ttlMs);
      this.#partition.unref();
    }
  }

  #reconnected(): void {
    if (this.#closing || !this.#synced || !this.#outage || this.#syncing) return;
    if (this.#cmd.status !== 'ready' || this.#sub.status !== 'ready') return;
    this.#log({ level: 'info', event: 'redis-reconnected', instance: this.instanceId });
    this.#sync().catch((err: unknown) => {
      this.#log({ level: 'warn', event: 'cluster-sync-failed', code: 'redis-unavailable', error: String(err) });
    });
  }
}

