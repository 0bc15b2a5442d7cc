/**
 * Seeded convergence of the Yjs provider on the real mesh over the in-memory network
 * (simulated time): random edits on two documents on 3-4 peers, link latency and jitter
 * (reordering across peers), small frames (chunking), partitions that heal, peers that
 * vanish, edit offline and come back under a new id. Every document must converge. Then
 * one pair's link is blocked for good and both ends edit: with a third peer in the room,
 * their edits must converge through it (forwarding) while the block is still on.
 *
 * Replay one seed: SEED=123 npx vitest run test/yjs/convergence.test.ts; a wider range:
 * SEEDS=201-1200 npx vitest run test/yjs/convergence.test.ts
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { createMemoryNetwork } from '../../src/mesh/memory-network.js';
import { silentLogger } from '../../src/mesh/logger.js';
import type { Room } from '../../src/mesh/types.js';
import { ManualClock } from '../../src/util/clock.js';
import { createRng, type Rng } from '../../src/util/rng.js';
import { createYjsProvider, type MeshpartyProvider } from '../../src/yjs/provider.js';

const DOCS = ['alpha', 'beta'];
const STEPS = 60;
const quiet = () => {};

interface SimPeer {
  index: number;
  generation: number;
  room: Room;
  docs: Y.Doc[];
  providers: MeshpartyProvider[];
  online: boolean;
}

function word(rng: Rng): string {
  let s = '';
  for (let i = 1 + rng.int(5); i > 0; i--) s += String.fromCharCode(97 + rng.int(26));
  return s;
}

function randomEdit(rng: Rng, doc: Y.Doc): void {
  const text = doc.getText('t');
  const pick = rng.int(10);
  if (pick < 5) text.insert(rng.int(text.length + 1), word(rng));
  else if (pick < 7 && text.length > 0) {
    const at = rng.int(text.length);
    text.delete(at, 1 + rng.int(Math.min(8, text.length - at)));
  } else if (pick < 9) doc.getMap('m').set(`k${rng.int(5)}`, rng.int(1000));
  else if (rng.chance(0.1)) text.insert(0, 'x'.repeat(20_000 + rng.int(20_000))); // bigger than one 16 KiB frame
  else doc.getArray('a').push([rng.int(100)]);
}

function snapshot(doc: Y.Doc): string {
  const sv = [...Y.decodeStateVector(Y.encodeStateVector(doc))].sort((a, b) => a[0] - b[0]);
  return JSON.stringify({ t: doc.getText('t').toString(), m: Object.entries(doc.getMap('m').toJSON()).sort(([a], [b]) => (a < b ? -1 : 1)), a: doc.getArray('a').toJSON(), sv });
}

async function runSeed(seed: number): Promise<void> {
  const rng = createRng(seed);
  const clock = new ManualClock();
  const net = createMemoryNetwork({
    seed,
    clock,
    latencyMs: 1 + rng.int(30),
    jitterMs: rng.int(40),
    maxMessageSize: rng.chance(0.5) ? 16 * 1024 : undefined,
    mesh: { logger: silentLogger() },
  });
  const peers: SimPeer[] = [];
  const idOf = (p: SimPeer) => `p${p.index}g${p.generation}`;
  const connect = (p: SimPeer) => {
    p.room = net.join('r', { peerId: idOf(p) });
    p.online = true;
    p.providers = [];
    const room = p.room;
    DOCS.forEach((name, j) => {
      const start = () => {
        if (p.room === room && p.online) p.providers.push(createYjsProvider(room, p.docs[j]!, { name, clock, log: quiet }));
      };
      // Some documents open later than the room, so peers' first sync messages find no provider.
      if (rng.chance(0.3)) clock.setTimeout(start, rng.int(3000));
      else start();
    });
  };
  const count = 3 + rng.int(2);
  for (let index = 0; index < count; index++) {
    const docs = DOCS.map((_, j) => {
      const d = new Y.Doc();
      d.clientID = seed * 1000 + index * 10 + j + 1; // deterministic replays
      return d;
    });
    const p: SimPeer = { index, generation: 0, room: undefined as unknown as Room, docs, providers: [], online: false };
    connect(p);
    peers.push(p);
  }

  for (let step = 0; step < STEPS; step++) {
    const roll = rng.int(100);
    if (roll < 60) {
      const p = peers[rng.int(peers.length)]!;
      for (let k = 1 + rng.int(3); k > 0; k--) randomEdit(rng, p.docs[rng.int(DOCS.length)]!);
    } else if (roll < 70) {
      const groups: string[][] = [[], []];
      for (const p of peers) if (p.online) groups[rng.int(2)]!.push(idOf(p));
      net.partition(groups);
    } else if (roll < 80) {
      net.heal();
    } else if (roll < 85) {
      // vanish without a goodbye; edit offline; come back later under a new id
      const p = peers[rng.int(peers.length)]!;
      if (p.online) {
        net.disconnect(idOf(p));
        p.providers.forEach((pr) => pr.destroy());
        void p.room.leave();
        p.online = false;
        randomEdit(rng, p.docs[rng.int(DOCS.length)]!);
      }
    } else if (roll < 92) {
      const p = peers.find((x) => !x.online);
      if (p) {
        p.generation++;
        connect(p);
      }
    }
    await net.advance(rng.int(300));
  }

  net.heal();
  for (const p of peers) if (!p.online) (p.generation++, connect(p));
  const converged = () => DOCS.every((_, j) => new Set(peers.map((p) => snapshot(p.docs[j]!))).size === 1);
  await net.advance(3000); // late providers have started
  for (let t = 0; t < 120 && !converged(); t++) await net.advance(500);
  try {
    expectConverged(peers);
    // Its own stream, so the steps above replay as they did before this phase existed.
    const more = createRng(seed ^ 0x5eed);
    const x = peers[more.int(peers.length)]!;
    const y = peers.filter((p) => p !== x)[more.int(peers.length - 1)]!;
    net.block(idOf(x), idOf(y));
    await net.advance(more.int(6000));
    for (let step = 0; step < 10; step++) {
      const p = more.chance(0.8) ? (more.chance(0.5) ? x : y) : peers[more.int(peers.length)]!;
      randomEdit(more, p.docs[more.int(DOCS.length)]!);
      await net.advance(more.int(300));
    }
    for (let t = 0; t < 40 && !converged(); t++) await net.advance(500);
    expect(x.room.peers.has(idOf(y)), 'the blocked pair stayed apart').toBe(false);
    expectConverged(peers);
  } finally {
    for (const p of peers) {
      p.providers.forEach((pr) => pr.destroy());
      await p.room.leave();
    }
  }
}

function expectConverged(peers: SimPeer[]): void {
  for (let j = 0; j < DOCS.length; j++) {
    const first = snapshot(peers[0]!.docs[j]!);
    for (const p of peers) expect(snapshot(p.docs[j]!), `doc ${DOCS[j]} on peer ${p.index}`).toBe(first);
  }
}

/** SEED=n replays one seed; SEEDS=a-b runs a wider range than CI's 1-200. */
function seedsFromEnv(): number[] | undefined {
  if (process.env.SEED) return [Number(process.env.SEED)];
  const range = /^(\d+)-(\d+)$/.exec(process.env.SEEDS ?? '');
  return range ? Array.from({ length: Number(range[2]) - Number(range[1]) + 1 }, (_, i) => Number(range[1]) + i) : undefined;
}
const ALL_SEEDS = seedsFromEnv() ?? Array.from({ length: 200 }, (_, i) => i + 1);
const BATCH = 50;

describe('yjs convergence on the in-memory mesh', () => {
  for (let b = 0; b < ALL_SEEDS.length; b += BATCH) {
    const seeds = ALL_SEEDS.slice(b, b + BATCH);
    it(`converges for seeds ${seeds[0]}..${seeds[seeds.length - 1]}`, async () => {
      for (const seed of seeds) {
        try {
          await runSeed(seed);
        } catch (err) {
          console.error(`convergence failed for seed ${seed}; replay: SEED=${seed} npx vitest run test/yjs/convergence.test.ts`);
          throw new Error(`seed ${seed}: ${(err as Error).message}`);
        }
      }
    }, 120_000);
  }
});
