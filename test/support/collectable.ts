/**
 * Leak checks by garbage collection: whether an object the code under test should have
 * let go of can be collected. Needs no debug API in the code: the test keeps only a
 * WeakRef to the object and asks V8 for a full collection.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
/** V8's gc(), reached without starting Node with --expose-gc. */
const fullGc = runInNewContext('gc') as () => void;

/**
 * How many of `refs` still point to a live object after full collections. An object
 * stays alive until the end of the task that made it, so this waits for a macrotask first.
 *
 * @example
 * ```ts
 * const refs = [new WeakRef(obj)];
 * expect(await stillAlive(refs)).toBe(0);
 * ```
 */
export async function stillAlive(refs: ReadonlyArray<WeakRef<object>>): Promise<number> {
  for (let i = 0; i < 3; i++) {
    await new Promise<void>((r) => setImmediate(r));
    fullGc();
  }
  return refs.filter((r) => r.deref() !== undefined).length;
}
