/**
 * Where the keeper stores a room's documents: `<dir>/<room>/<doc>.ylog`, with names made
 * safe for any file system. A name of up to 100 UTF-8 bytes becomes its hex (readable
 * back from the file name); a longer one becomes `h-<sha256 hex>`, since hex would pass
 * the 255-byte file name limit (with room for the `.damaged-<ms>` and `.tmp` suffixes),
 * and a document's real name is then kept beside its log in `h-<sha256>.name` (for as
 * long as the log, or a `.damaged-*` copy set aside from it, is there).
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { MeshpartyError } from '../../util/errors.js';
import { replaceFileDurably, syncDir } from './durable-fs.js';
import { LOG_MAGIC } from './log-format.js';

const MAX_HEX_NAME_BYTES = 100;

/** The file-system-safe form of a room or document name. */
export function storeName(name: string): string {
  const bytes = Buffer.from(name, 'utf8');
  if (bytes.length <= MAX_HEX_NAME_BYTES) return bytes.toString('hex');
  return `h-${createHash('sha256').update(bytes).digest('hex')}`;
}

/** The log file of document `name` in `roomDir`. */
export function docLogPath(roomDir: string, name: string): string {
  return join(roomDir, `${storeName(name)}.ylog`);
}

/**
 * Before a hashed document's log is opened: keep its real name beside it, so a restart
 * finds it. A name file there already that holds something else (damaged, or edited by
 * hand) is written again: the hash shows this name is the one, and left so the log would
 * be passed over at every start. One that cannot be read is left (starts report it).
 */
export function recordDocName(roomDir: string, name: string): void {
  const base = storeName(name);
  if (!base.startsWith('h-')) return;
  const path = join(roomDir, `${base}.name`);
  const bytes = Buffer.from(name, 'utf8');
  try {
    if (readFileSync(path).equals(bytes)) return;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return;
  }
  replaceFileDurably(path, bytes);
}

/**
 * The names of the documents stored in `roomDir` (none if it does not exist). A hashed
 * log whose name file is missing or does not match is reported through `say` and left
 * alone. Throws `MeshpartyError('store-unreadable')` when the directory cannot be read.
 */
export function storedDocNames(roomDir: string, say: (message: string) => void): string[] {
  let files: string[];
  try {
    files = readdirSync(roomDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new MeshpartyError('store-unreadable', `cannot list ${roomDir}: ${(err as Error).message}`, { path: roomDir });
  }
  const names: string[] = [];
  for (const file of files) {
    if (/^([0-9a-f]{2})+\.ylog$/.test(file)) {
      // A file the keeper did not write (not UTF-8, or too long for hex) would be read as a
      // name stored elsewhere: its log left unread, and a new one made under the other name.
      const name = Buffer.from(file.slice(0, -'.ylog'.length), 'hex').toString('utf8');
      if (`${storeName(name)}.ylog` === file) names.push(name);
      else say(`${join(roomDir, file)}: not a name this keeper stores as hex (not UTF-8, or over ${MAX_HEX_NAME_BYTES} bytes); not loaded`);
    } else if (/^h-[0-9a-f]{64}\.ylog$/.test(file)) {
      const base = file.slice(0, -'.ylog'.length);
      let name: string | undefined;
      try {
        name = readFileSync(join(roomDir, `${base}.name`), 'utf8');
      } catch {
        // reported below
      }
      if (name !== undefined && storeName(name) === base) names.push(name);
      else say(`${join(roomDir, file)}: its name file ${base}.name is missing or does not match; not loaded`);
    }
  }
  return names;
}

/**
 * Remove the log of document `name` in `roomDir` if it stores nothing (empty, or the
 * header alone: a document announced and never edited, which keepers before this one
 * stored, or a damaged log salvaged to its header), with its name file unless a copy of
 * the log set aside as damaged is still there; returns whether it did. A log with
 * anything more is left.
 */
export function removeIfEmpty(roomDir: string, name: string): boolean {
  const path = docLogPath(roomDir, name);
  try {
    if (statSync(path).size > LOG_MAGIC.length) return false;
    const bytes = readFileSync(path);
    if (bytes.length > 0 && !bytes.equals(LOG_MAGIC)) return false;
    // `<hash>.ylog.damaged-*` is named by the hash alone: its name file is all that tells an
    // operator which document the copy was, so it stays as long as a copy does.
    const keepName = hasDamagedCopy(roomDir, storeName(name));
    rmSync(path);
    if (!keepName) rmSync(join(roomDir, `${storeName(name)}.name`), { force: true });
    syncDir(roomDir);
    return true;
  } catch {
    return false; // unreadable: opening it reports why
  }
}

/** A `<base>.ylog.damaged-*` file (a copy set aside, or one cut short by a crash) is in `roomDir`. */
function hasDamagedCopy(roomDir: string, base: string): boolean {
  if (!base.startsWith('h-')) return false; // a hex name is readable from the copy's own name
  const prefix = `${base}.ylog.damaged-`;
  return readdirSync(roomDir).some((file) => file.startsWith(prefix));
}
