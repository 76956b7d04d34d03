#!/usr/bin/env node
// Entry point of the `baton` command: runs the built CLI (`make build` produces dist/).
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv);
