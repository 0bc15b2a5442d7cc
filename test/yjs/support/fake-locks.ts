/**
 * Web Locks for tab-sync tests in Node (which has no `navigator.locks`): exclusive locks
 * granted in request order, a pending request withdrawn by its signal, and each tab a
 * client whose locks all go when it "crashes", as the browser releases a dead tab's.
 */
import type { TabLocks } from '../../../src/yjs/tab-locks.js';

interface Request {
  client: number;
  callback: (lock: unknown) => unknown;
  settle: (value: unknown) => void;
  fail: (err: unknown) => void;
  release?: () => void;
}

export class FakeLockManager {
  #queues = new Map<string, Request[]>();
  #clients = 0;

  /** One tab's `navigator.locks`, and `crash()` to let go of everything it holds or asked for. */
  client(): TabLocks & { crash(): void } {
    const id = ++this.#clients;
    return {
      request: (name, options, callback) => this.#request(id, name, options.signal, callback),
      crash: () => this.#crash(id),
    };
  }

  /** Who holds `name` (a client number), if anyone. */
  holder(name: string): number | undefined {
    const head = this.#queues.get(name)?.[0];
    return head?.release ? head.client : undefined;
  }

  #request(client: number, name: string, signal: AbortSignal | undefined, callback: Request['callback']): Promise<unknown> {
    return new Promise((settle, fail) => {
      if (signal?.aborted) return fail(new DOMException('aborted', 'AbortError'));
      const request: Request = { client, callback, settle, fail };
      const queue = this.#queues.get(name) ?? [];
      this.#queues.set(name, queue);
      queue.push(request);
      signal?.addEventListener('abort', () => {
        if (request.release) return; // granted: only the callback's promise lets go
        const at = queue.indexOf(request);
        if (at >= 0) queue.splice(at, 1);
        fail(new DOMException('aborted', 'AbortError'));
      });
      // Granted in a later task, as the browser's lock manager answers.
      setTimeout(() => this.#grant(name), 0);
    });
  }

  #grant(name: string): void {
    const queue = this.#queues.get(name);
    const head = queue?.[0];
    if (!queue || !head || head.release) return;
    let released = false;
    head.release = () => {
      if (released) return;
      released = true;
      queue.shift();
      setTimeout(() => this.#grant(name), 0);
    };
    Promise.resolve()
      .then(() => head.callback({ name }))
      .then(
        (value) => {
          head.release?.();
          head.settle(value);
        },
        (err) => {
          head.release?.();
          head.fail(err);
        },
      );
  }

  #crash(client: number): void {
    for (const [name, queue] of this.#queues) {
      for (const request of [...queue]) {
        if (request.client !== client) continue;
        if (request.release) request.release();
        else queue.splice(queue.indexOf(request), 1);
      }
      if (queue.length) setTimeout(() => this.#grant(name), 0);
    }
  }
}
