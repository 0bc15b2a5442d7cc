import { parseArgs } from 'node:util';
import { createRoomToken } from '../tokens.js';
import { numberOption, type Subcommand } from './subcommand.js';

/** `meshparty token --secret S --room R [--ttl 3600]`: print a room token. */
export const tokenCommand: Subcommand = {
  summary: 'print a room token for a relay started with --secret',
  usage: [
    'Usage: meshparty token --secret SECRET --room ROOM [--ttl SECONDS]',
    '',
    '  --secret S   the relay secret (or env MESHPARTY_RELAY_SECRET)',
    '  --room R     the one room the token admits to',
    '  --ttl N      lifetime in seconds (default 3600)',
  ].join('\n'),
  async run(args) {
    const { values } = parseArgs({
      args,
      options: { secret: { type: 'string' }, room: { type: 'string' }, ttl: { type: 'string' } },
      strict: true,
    });
    const secret = values.secret ?? process.env.MESHPARTY_RELAY_SECRET;
    if (!secret) throw new Error('--secret (or MESHPARTY_RELAY_SECRET) is required');
    if (!values.room) throw new Error('--room is required');
    const ttl = numberOption('ttl', values.ttl) ?? 3600;
    console.log(createRoomToken({ secret, room: values.room, expiresInSeconds: ttl }));
    return 0;
  },
};
