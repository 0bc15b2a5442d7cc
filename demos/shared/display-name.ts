/**
 * A name another peer chose, made safe to show. Any peer can send any string as its name:
 * bidirectional-text controls (U+202E turns "Ada" + "txt.exe" around), zero-width and
 * other invisible characters (two people who look alike), line breaks, and a trailing
 * "(you)" (the page marks its own person so; a peer named "Ada (you)" passed for us).
 */

/** C0/C1 controls, the soft hyphen, bidi marks and controls, zero-width and other invisible format characters, variation selectors and tag characters. */
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufffb\u{1d173}-\u{1d17a}\u{e0000}-\u{e007f}\u{e0100}-\u{e01ef}]/gu;
/** A trailing "(you)", with ASCII or full-width brackets, any case, spaced or not. */
const YOU = /\s*[(\uff08]\s*you\s*[)\uff09]$/i;

/**
 * `raw` without invisible characters, runs of white space as one space, no trailing
 * "(you)", and at most `max` characters (code points); undefined when nothing is left.
 *
 * @example
 * ```ts
 * displayName('\u202eAda (you)', 32); // 'Ada'
 * ```
 */
export function displayName(raw: string, max: number): string | undefined {
  let name = raw.replace(INVISIBLE, '').replace(/\s+/g, ' ').trim();
  while (YOU.test(name)) name = name.replace(YOU, '').trim();
  name = [...name].slice(0, max).join('').trim();
  return name || undefined;
}
