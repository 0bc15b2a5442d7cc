/**
 * Stand-ins for other tabs in tab-sync tests: a channel that holds back one tab's
 * messages (so a new tab hears the others first), and a scripted tab that claims what it
 * is told to, shows a presence, and answers the request for the document only when the
 * test says so (or never).
 */
import { afterEach } from 'vitest';
import * as Y from 'yjs';
import { Awareness, encodeAwarenessUpdate } from 'y-protocols/awareness';
import { createTabSync, type BroadcastChannelLike, type TabSyncOptions } from '../../../src/yjs/tab-sync.js';
import { decodeYjsMessage, encodeAwareness, encodeSyncStep1, encodeUpdate, Step1Kind, YjsTag } from '../../../src/yjs/protocol.js';

/**
 * A BroadcastChannel whose messages from `held` are delivered only once `until` settles;
 * what the tab posts is also pushed to `sent` (synchronously, as it posts).
 */
export function gatedChannel(held: string, until: Promise<void>, sent: unknown[] = []) {
  return class implements BroadcastChannelLike {
    #ch: BroadcastChannel;
    #on: ((event: { data: unknown }) => void) | null = null;
    #open = false;
    #queue: Array<{ data: unknown }> = [];
    constructor(name: string) {
      this.#ch = new BroadcastChannel(name);
      this.#ch.onmessage = (e: MessageEvent) => {
        if (!this.#open && (e.data as { from?: string })?.from === held) this.#queue.push({ data: e.data });
        else this.#on?.({ data: e.data });
      };
      void until.then(() => {
        this.#open = true;
        for (const e of this.#queue.splice(0)) this.#on?.(e);
      });
    }
    get onmessage() {
      return this.#on;
    }
    set onmessage(f) {
      this.#on = f;
    }
    postMessage(m: unknown) {
      sent.push(m);
      this.#ch.postMessage(m);
    }
    close() {
      this.#ch.close();
    }
  };
}

/** A request for the document a scripted tab got: who asked, and their state vector. */
export interface Pull {
  from: string;
  stateVector: Uint8Array;
}

/**
 * A tab `id` on `name` whose copy is `doc`: it answers a pulling hello with `doc`'s state
 * vector and a presence of its own (client `presenceClient`), records each request for
 * the document in `pulls` and answers none by itself; `answer(pull)` sends the step 2
 * `doc` would. `post(data)` sends any message to every tab; `close()` ends it, `bye()`
 * with a goodbye.
 */
export function scriptedTab(name: string, id: string, doc: Y.Doc) {
  const awareness = new Awareness(new Y.Doc());
  awareness.setLocalState({ user: { name: id } });
  const pulls: Pull[] = [];
  let hellos = 0;
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    channel.close();
    awareness.destroy();
  };
  const channel = new BroadcastChannel(`meshparty-tabs:${name}`);
  const post = (data: Uint8Array, to?: string) => channel.postMessage({ t: 'meshparty-tab/1', from: id, ...(to && { to }), data });
  channel.onmessage = (e: MessageEvent) => {
    const env = e.data;
    if (!(env?.data instanceof Uint8Array) || (env.to !== undefined && env.to !== id)) return;
    const d = decodeYjsMessage(env.data, { maxUpdateBytes: 1 << 20 } as never);
    if (!d.ok || d.message.tag !== YjsTag.SyncStep1) return;
    if (d.message.kind === Step1Kind.Hello && env.p) {
      hellos++;
      post(encodeSyncStep1(Step1Kind.Recheck, Y.encodeStateVector(doc)), env.from);
      post(encodeAwareness(encodeAwarenessUpdate(awareness, [awareness.clientID])), env.from);
    } else if (d.message.kind === Step1Kind.Recheck) pulls.push({ from: env.from, stateVector: d.message.stateVector });
  };
  return {
    pulls,
    /** How many pulling hellos it answered. */
    get hellos() {
      return hellos;
    },
    presenceClient: awareness.clientID,
    /** Send `data` to every tab, or only to the tab `to`. */
    post: (data: Uint8Array, to?: string) => post(data, to),
    /** Show `state` as its presence, to every tab (after anything it sent before). */
    show: (state: Record<string, unknown>) => {
      awareness.setLocalState(state);
      post(encodeAwareness(encodeAwarenessUpdate(awareness, [awareness.clientID])));
    },
    /** Say goodbye and close. */
    bye: () => {
      if (closed) return;
      channel.postMessage({ t: 'meshparty-tab/1', from: id, bye: true });
      close();
    },
    answer: (pull: Pull) => post(encodeUpdate(YjsTag.SyncStep2, Y.encodeStateAsUpdate(doc, pull.stateVector)), pull.from),
    close,
  };
}

/**
 * What a tab-sync test file sets up for each test: fresh channel names, tab syncs and
 * scripted tabs that are closed after the test (it registers the file's afterEach).
 */
export function tabTestbed(prefix: string) {
  let names = 0;
  const closers: Array<() => void> = [];
  afterEach(() => {
    for (const c of closers.splice(0)) c();
  });
  return {
    freshName: () => `${prefix}-${process.pid}-${++names}`,
    /** Run `close` after the test. */
    closeLater: (close: () => void) => void closers.push(close),
    tab: (doc: Y.Doc, name: string, extra: Partial<TabSyncOptions> = {}) => {
      const t = createTabSync(doc, { name, log: () => {}, limits: { maxUpdateBytes: 1 << 20 }, ...extra });
      closers.push(() => t.destroy());
      return t;
    },
    scripted: (name: string, id: string, doc: Y.Doc) => {
      const s = scriptedTab(name, id, doc);
      closers.push(s.close);
      return s;
    },
  };
}
