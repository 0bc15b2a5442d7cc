/**
 * An append-only list kept as bytes and decoded on read: what a {@link Recorder} holds
 * its frames and hashes in. Bytes, because a game records every frame for as long as it
 * runs (a frame object costs some 100 times its bytes); decoded incrementally, because a
 * game UI or a test reads the list every frame, and decoding the whole list at each read
 * cost O(frames) a read, O(frames²) over a game.
 */
import { ByteReader, ByteWriter } from './bytes.js';

/** Reads one entry; `copy` false lets it keep views into the bytes it reads from. */
export type EntryReader<T> = (r: ByteReader, copy: boolean) => T;

/** Internal to the lockstep layer (not exported from the package). */
export class ByteLog<T> {
  /** Bytes of the entries already in #list. */
  #read = new ByteWriter(1024);
  /** Bytes of the entries appended since the last list() (all of them before a first one). */
  #unread = new ByteWriter(64);
  #unreadCount = 0;
  /**
   * The entries decoded so far: made by the first list(), only extended after. Never
   * made while nobody reads, so a log nobody reads stays its bytes.
   */
  #list: T[] | undefined;

  constructor(private readonly readEntry: EntryReader<T>) {}

  /** Entries appended so far. */
  get count(): number {
    return (this.#list?.length ?? 0) + this.#unreadCount;
  }

  /** Bytes of every entry appended so far. */
  get byteLength(): number {
    return this.#read.length + this.#unread.length;
  }

  /** Append one entry: the bytes `readEntry` reads back. */
  append(entry: Uint8Array): void {
    this.#unread.raw(entry);
    this.#unreadCount++;
  }

  /**
   * Every entry, decoded: the same array each call, extended by the entries appended since
   * the previous call (only those are decoded). Shared: never mutate it or its entries.
   */
  list(): readonly T[] {
    const list = (this.#list ??= []);
    if (this.#unreadCount === 0) return list;
    // One copy of the new bytes: the entries decoded from it keep views into it, and the
    // log keeps its own bytes apart, so an entry changed by a careless reader changes
    // nothing copies() returns.
    const bytes = this.#unread.finish();
    const r = new ByteReader(bytes);
    for (let i = 0; i < this.#unreadCount; i++) list.push(this.readEntry(r, false));
    this.#read.raw(bytes);
    this.#unread = new ByteWriter(64);
    this.#unreadCount = 0;
    return list;
  }

  /** Every entry decoded afresh from the bytes: copies sharing nothing with the log (O(entries)). */
  copies(): T[] {
    const out: T[] = [];
    for (const bytes of [this.#read.finish(), this.#unread.finish()]) {
      const r = new ByteReader(bytes);
      while (r.remaining > 0) out.push(this.readEntry(r, true));
    }
    return out;
  }
}
