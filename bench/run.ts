// `baton bench` from the sources (no build needed): `npx tsx bench/run.ts [--runs N] [--quick] [--out DIR]`.
import { main } from '../src/cli/main.js';

process.exitCode = await main([process.argv[0] ?? 'node', 'baton', 'bench', ...process.argv.slice(2)]);
