/**
 * 32-bit FNV-1a over bytes: the default state hash (see `util/fnv1a.ts`). Integer maths
 * only, so every JavaScript engine computes the same value.
 */
export { fnv1a32 } from '../util/fnv1a.js';
