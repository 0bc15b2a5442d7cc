/** One `meshparty` CLI subcommand. */
export interface Subcommand {
  /** One line for `meshparty --help`. */
  summary: string;
  /** Full text for `meshparty <name> --help`. */
  usage: string;
  /** Run with the arguments after the subcommand name; resolves to the exit code. Throw for usage errors. */
  run(args: string[]): Promise<number>;
}

/**
 * Parse a numeric option, refusing anything that is not a finite non-negative number. An
 * empty or blank value is refused too, not read as 0 (what `Number('')` gives): `--port
 * "$PORT"` or `PORT=` with nothing set would otherwise listen on a random port, and an
 * empty `--resume-grace-ms` would quietly turn resuming off.
 */
export function numberOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = value.trim() === '' ? NaN : Number(value);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a non-negative number, got "${value}"`);
  return n;
}
