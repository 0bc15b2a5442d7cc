#!/usr/bin/env node
// The `meshparty` command. The CLI is TypeScript; tsx compiles it on the fly, so the
// package ships sources only and `npx meshparty ...` works straight from a checkout.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../signaling/cli.ts');
process.exitCode = await main(process.argv.slice(2));
