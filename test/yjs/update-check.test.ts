/**
 * The lean update validator must accept and reject what `Y.decodeUpdate` does, but for
 * what it refuses on purpose (what Yjs never writes and applies only in part): real
 * updates of every content kind are accepted, a seeded differential fuzz over mutants of
 * them agrees with Yjs on every mutant, no accepted mutant makes `Y.applyUpdate` throw,
 * and hand-made malformed updates are rejected with a readable reason.
 */
import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/util/rng.js';
import * as Y from 'yjs';
import * as encoding from 'lib0/encoding';
import { validateUpdateV1 } from '../../src/yjs/update-check.js';

/** Real V1 updates covering every struct and content kind Yjs writes today. */
function corpus(): Uint8Array[] {
  const out: Uint8Array[] = [];
  const a = new Y.Doc({ gc: false });
  a.clientID = 1;
  a.on('update', (u: Uint8Array) => out.push(u));
  const text = a.getText('text');
  text.insert(0, 'hello wörld 🎉');
  text.format(0, 5, { bold: true, color: { r: 1 } });
  text.insertEmbed(3, { image: 'x.png' });
  text.insert(2, 'attr', { italic: true });
  text.delete(1, 4);
  const map = a.getMap('map');
  a.transact(() => {
    map.set('n', 42);
    map.set('f', 1.5);
    map.set('big', 2n ** 60n);
    map.set('s', 'str');
    map.set('o', { a: [1, 'two', null, true], b: { c: false } });
    map.set('arr', [1, [2, [3]]]);
    map.set('bin', new Uint8Array([0, 1, 255]));
    map.set('u', undefined);
    map.set('null', null);
  });
  const inner = new Y.Map<unknown>();
  map.set('inner', inner);
  inner.set('deep', new Y.Array());
  inner.set('deep', 'replaced');
  const arr = a.getArray<unknown>('arr');
  arr.push([1, 'x', { y: 1 }, new Uint8Array(3)]);
  arr.insert(1, [new Y.Text('nested'), new Y.Map(), new Y.XmlHook('hook')]);
  arr.delete(0, 2);
  const frag = a.getXmlFragment('xml');
  const el = new Y.XmlElement('p');
  el.setAttribute('class', 'c');
  el.insert(0, [new Y.XmlText('inside')]);
  frag.insert(0, [el, new Y.XmlText('tail')]);
  map.set('sub', new Y.Doc({ guid: 'sub-1', meta: { m: 1 }, autoLoad: true }));
  map.set('sub2', new Y.Doc({ guid: 'sub-2', gc: false }));
  out.push(Y.encodeStateAsUpdate(a));

  const b = new Y.Doc(); // gc: true, so deleted content is written as GC structs
  b.clientID = 2;
  Y.applyUpdate(b, Y.encodeStateAsUpdate(a));
  const sv = Y.encodeStateVector(b);
  b.getText('text').insert(0, 'from b ');
  b.getArray('arr').delete(0, 1);
  b.getMap('map').delete('o');
  out.push(Y.encodeStateAsUpdate(b), Y.encodeStateAsUpdate(b, sv), Y.encodeStateAsUpdate(b, Y.encodeStateVector(a)));

  // Updates with gaps merge into an update holding Skip structs.
  const c = new Y.Doc();
  c.clientID = 3;
  const parts: Uint8Array[] = [];
  c.on('update', (u: Uint8Array) => parts.push(u));
  for (let i = 0; i < 6; i++) c.getText('t').insert(0, `p${i}`);
  const merged = Y.mergeUpdates([parts[0]!, parts[2]!, parts[5]!]);
  out.push(merged, Y.mergeUpdates([merged, Y.encodeStateAsUpdate(b)]));

  // Small updates make single-byte mutants that stay otherwise well-formed more likely.
  const d = new Y.Doc();
  d.clientID = 4;
  d.on('update', (u: Uint8Array) => out.push(u));
  d.getMap('m').set('sub', new Y.Doc({ guid: 'g' }));
  d.getArray('a').push([new Y.XmlHook('h'), new Y.XmlElement('e'), new Y.XmlFragment()]);
  const e = new Y.Doc();
  e.clientID = 5;
  const small: Uint8Array[] = [];
  e.on('update', (u: Uint8Array) => small.push(u));
  for (const ch of 'abc') e.getText('t').insert(0, ch);
  out.push(Y.mergeUpdates([small[0]!, small[2]!])); // one Skip between two items

  // The legacy ContentJSON (ref 2) is no longer written by Yjs; craft one.
  out.push(oneItem(2, (e) => {
    encoding.writeVarUint(e, 3);
    ['1', 'undefined', '{"x":[2]}'].forEach((s) => encoding.writeVarString(e, s));
  }));
  return out;
}

/** One top-level item under 'root' with the given content ref, and an empty delete set. */
function oneItem(info: number, content: (e: encoding.Encoder) => void): Uint8Array {
  const e = encoding.createEncoder();
  [1, 1, 7, 0].forEach((n) => encoding.writeVarUint(e, n)); // 1 client, 1 struct, client 7, clock 0
  encoding.writeUint8(e, info);
  encoding.writeVarUint(e, 1); // parent is a top-level type...
  encoding.writeVarString(e, 'root'); // ...named 'root'
  content(e);
  encoding.writeVarUint(e, 0); // no deletes
  return encoding.toUint8Array(e);
}

/** Client 7: 'a' under 'root' at clock 0, then an item at clock 1 with `flag`'s origin 7:`refClock` (default: itself). */
function selfReferring(flag: 0x80 | 0x40, refClock = 1): Uint8Array {
  const e = encoding.createEncoder();
  [1, 2, 7, 0].forEach((n) => encoding.writeVarUint(e, n)); // 1 client, 2 structs, client 7, clock 0
  encoding.writeUint8(e, 4);
  encoding.writeVarUint(e, 1);
  encoding.writeVarString(e, 'root');
  encoding.writeVarString(e, 'a');
  encoding.writeUint8(e, 4 | flag);
  [7, refClock].forEach((n) => encoding.writeVarUint(e, n));
  encoding.writeVarString(e, 'b');
  encoding.writeVarUint(e, 0); // no deletes
  return encoding.toUint8Array(e);
}

function yjsAccepts(update: Uint8Array): boolean {
  try {
    Y.decodeUpdate(update);
    return true;
  } catch {
    return false;
  }
}

/**
 * What the validator refuses on purpose although Yjs reads it (Yjs never writes these,
 * and applying them can throw after part of the update is in): an empty struct or
 * delete range, an item that refers to an item of its own client that is not earlier.
 */
function refusedOnPurpose(update: Uint8Array): boolean {
  const { structs, ds } = Y.decodeUpdate(update);
  if ([...ds.clients.values()].some((ranges) => ranges.some((r) => r.len === 0))) return true;
  return structs.some((s) => {
    if (s.length === 0) return true;
    if (!(s instanceof Y.Item)) return false;
    const parent = s.parent && typeof s.parent === 'object' && 'client' in s.parent ? (s.parent as Y.ID) : null;
    return [s.origin, s.rightOrigin, parent].some((ref) => ref !== null && ref.client === s.id.client && ref.clock >= s.id.clock);
  });
}


const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
// Bytes that mean something in the grammar: refs, flags, any-tags, varint continuations.
const INTERESTING = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 31, 42, 0x7f, 0x80, 0xff, 116, 117, 118, 119, 125, 126, 127, 0x22, 0x7b];

function mutate(src: Uint8Array, other: Uint8Array, rnd: () => number): Uint8Array {
  let b = Array.from(src);
  const at = (n = b.length) => Math.floor(rnd() * (n + 1));
  const byte = () => (rnd() < 0.5 ? INTERESTING[Math.floor(rnd() * INTERESTING.length)]! : Math.floor(rnd() * 256));
  for (let k = rnd() < 0.6 ? 1 : 2 + Math.floor(rnd() * 2); k > 0; k--) {
    const i = Math.min(at(), b.length - 1);
    switch (Math.floor(rnd() * 8)) {
      case 0: if (i >= 0) b[i]! ^= 1 << Math.floor(rnd() * 8); break;
      case 1: if (i >= 0) b[i] = byte(); break;
      case 2: b = b.slice(0, at()); break;
      case 3: b.splice(at(), 0, ...Array.from({ length: 1 + Math.floor(rnd() * 4) }, byte)); break;
      case 4: b.push(...Array.from({ length: 1 + Math.floor(rnd() * 8) }, byte)); break;
      case 5: { const s = at(other.length); b.splice(at(), Math.floor(rnd() * 6), ...other.slice(s, s + 1 + Math.floor(rnd() * 12))); break; }
      case 6: b.splice(at(), 1 + Math.floor(rnd() * 4)); break;
      default: { const s = at(); b.splice(at(), 0, ...b.slice(s, s + 1 + Math.floor(rnd() * 8))); break; }
    }
  }
  return Uint8Array.from(b);
}

describe('validateUpdateV1', () => {
  const updates = corpus();

  it('accepts real updates of every content kind', () => {
    expect(updates.length).toBeGreaterThan(20);
    for (const u of updates) {
      expect(yjsAccepts(u)).toBe(true);
      expect(validateUpdateV1(u)).toBeUndefined();
    }
    // The corpus does contain GC (0), Skip (10), every content ref 1..9 and every type ref 0..6.
    const kinds = new Set(updates.flatMap((u) => Y.decodeUpdate(u).structs.map((s) => {
      if (!(s instanceof Y.Item)) return s.constructor.name;
      return s.content instanceof Y.ContentType ? s.content.type.constructor.name : s.content.constructor.name;
    })));
    expect([...kinds].sort()).toEqual([
      'ContentAny', 'ContentBinary', 'ContentDeleted', 'ContentDoc', 'ContentEmbed', 'ContentFormat', 'ContentJSON', 'ContentString',
      'GC', 'Skip', 'YArray', 'YMap', 'YText', 'YXmlElement', 'YXmlFragment', 'YXmlHook', 'YXmlText',
    ]);
  });

  it('agrees with Y.decodeUpdate on every mutant of a seeded fuzz', () => {
    const seed = 0x5eed;
    const rng = createRng(seed);
    const rnd = () => rng.next();
    const count = 100_000; // about a second
    let accepted = 0;
    const mismatches: string[] = [];
    for (let n = 0; n < count; n++) {
      const pick = () => updates[Math.floor(rnd() * updates.length)]!;
      const m = mutate(pick(), pick(), rnd);
      const ours = validateUpdateV1(m);
      const theirs = yjsAccepts(m) && !refusedOnPurpose(m);
      if (theirs) accepted++;
      if ((ours === undefined) !== theirs && mismatches.length < 5) {
        mismatches.push(`seed ${seed} mutant #${n}: validator ${ours ?? 'accepts'}, Y.decodeUpdate ${theirs ? 'accepts' : 'throws'}; bytes ${hex(m)}`);
      }
    }
    expect(mismatches, mismatches.join('\n')).toEqual([]);
    expect(accepted).toBeGreaterThan(count / 20); // both sides of the boundary get exercised
  });

  it('lets through no mutant that Y.applyUpdate would apply only in part (it never throws on an accepted one)', () => {
    const seed = 0xa991;
    const rng = createRng(seed);
    const rnd = () => rng.next();
    const failures: string[] = [];
    let accepted = 0;
    for (let n = 0; n < 50_000; n++) {
      const pick = () => updates[Math.floor(rnd() * updates.length)]!;
      const m = mutate(pick(), pick(), rnd);
      if (validateUpdateV1(m) !== undefined) continue;
      accepted++;
      // Into an empty doc, or one that already holds another update's content.
      const doc = new Y.Doc();
      if (n % 2) Y.applyUpdate(doc, updates[n % updates.length]!);
      try {
        Y.applyUpdate(doc, m);
      } catch (err) {
        if (failures.length < 5) failures.push(`seed ${seed} mutant #${n}: ${(err as Error).message}; bytes ${hex(m)}`);
      }
    }
    expect(failures, failures.join('\n')).toEqual([]);
    expect(accepted).toBeGreaterThan(2_500);
  });

  it.each([
    ['an item whose left origin is itself', selfReferring(0x80), 'malformed update: left origin 7:1 is not earlier than the item 7:1'],
    ['an item whose right origin comes after it', selfReferring(0x40, 5), 'malformed update: right origin 7:5 is not earlier than the item 7:1'],
    ['an empty string item', oneItem(4, (e) => encoding.writeVarString(e, '')), 'malformed update: empty struct'],
  ])('refuses %s, which Yjs reads but never writes', (_name, update, reason) => {
    expect(yjsAccepts(update)).toBe(true);
    expect(validateUpdateV1(update)).toBe(reason);
  });

  it.each([
    ['unknown content ref', oneItem(17, () => {}), 'malformed update: unknown content ref 17'],
    ['content ref 10 with flag bits (only the exact byte 10 is a Skip)', oneItem(10 | 0x20, () => {}), 'malformed update: unknown content ref 10'],
    ['unknown type ref', oneItem(7, (e) => encoding.writeVarUint(e, 9)), 'malformed update: unknown type ref 9'],
    ['bad UTF-8 in a string', oneItem(4, (e) => encoding.writeVarUint8Array(e, new Uint8Array([0xc3, 0x28]))), /^malformed update: .*utf-8/],
    ['bad JSON in an embed', oneItem(5, (e) => encoding.writeVarString(e, '{"a":')), /^malformed update: .*JSON/],
    ["'undefined' in an embed (only ContentJSON special-cases it)", oneItem(5, (e) => encoding.writeVarString(e, 'undefined')), /^malformed update: .*JSON/],
    ['subdocument with null options', oneItem(9, (e) => { encoding.writeVarString(e, 'g'); encoding.writeUint8(e, 126); }), 'malformed update: subdocument options are null'],
    ['unknown any tag', oneItem(8, (e) => { encoding.writeVarUint(e, 1); encoding.writeUint8(e, 100); }), 'malformed update: unknown any-encoded value tag'],
    ['a struct count larger than the update', Uint8Array.of(1, 0xff, 0xff, 0xff, 0x0f, 1, 0, 4, 1, 1, 0x61, 0), 'malformed update: Unexpected end of array'],
  ])('rejects %s', (_name, update, reason) => {
    expect(yjsAccepts(update)).toBe(false);
    if (typeof reason === 'string') expect(validateUpdateV1(update)).toBe(reason);
    else expect(validateUpdateV1(update)).toMatch(reason);
  });

  it('rejects a truncated delete set and ignores bytes after it, like Yjs', () => {
    const doc = new Y.Doc();
    doc.getText('t').insert(0, 'abc');
    doc.getText('t').delete(1, 1);
    const u = Y.encodeStateAsUpdate(doc);
    expect(validateUpdateV1(u.subarray(0, u.length - 1))).toBe('malformed update: Unexpected end of array');
    const trailing = Uint8Array.from([...u, 0xff, 0xff]);
    expect(yjsAccepts(trailing)).toBe(true);
    expect(validateUpdateV1(trailing)).toBeUndefined();
  });

  it('refuses an empty delete range, which Yjs reads but would apply only in part', () => {
    const e = encoding.createEncoder();
    [1, 1, 7, 0].forEach((n) => encoding.writeVarUint(e, n)); // client 7 from clock 0: one struct
    encoding.writeUint8(e, 4); // a string...
    encoding.writeVarUint(e, 1);
    encoding.writeVarString(e, 't'); // ...in the top-level type 't'
    encoding.writeVarString(e, 'abc');
    [1, 9, 1, 5, 0].forEach((n) => encoding.writeVarUint(e, n)); // delete set: client 9, [5, 5)
    const u = encoding.toUint8Array(e);
    expect(yjsAccepts(u)).toBe(true);
    expect(validateUpdateV1(u)).toBe('malformed update: empty delete range');
    // What the check prevents: Yjs puts the text in, then throws on the range.
    const doc = new Y.Doc();
    expect(() => Y.applyUpdate(doc, u)).toThrow();
    expect(doc.getText('t').toString()).toBe('abc');
  });

  it('accepts lengths and clocks Yjs accepts, up to 2^53', () => {
    const max = Number.MAX_SAFE_INTEGER;
    const e = encoding.createEncoder();
    [1, 2, 7, max].forEach((n) => encoding.writeVarUint(e, n)); // client 7 starts at clock 2^53 - 1
    encoding.writeUint8(e, 0); // GC...
    encoding.writeVarUint(e, max); // ...of length 2^53 - 1
    encoding.writeUint8(e, 10); // Skip
    encoding.writeVarUint(e, max);
    [1, 7, 1, max, max].forEach((n) => encoding.writeVarUint(e, n)); // delete set: [max, max + max)
    const u = encoding.toUint8Array(e);
    expect(yjsAccepts(u)).toBe(true);
    expect(validateUpdateV1(u)).toBeUndefined();
  });
});
