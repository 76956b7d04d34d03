// `baton events [--follow]`: faults, failover phases and failovers as JSON lines, from the daemon's event stream.
import { Command } from 'commander';
import { callApi, followApi } from './client.js';

export function buildEventsCommand(deps: { stateDir: () => string; print: (line: string) => void }): Command {
  return new Command('events')
    .description(
      'print recent faults, failover phases and failovers as JSON lines; with --follow, print them as they happen',
    )
    .option('--follow', 'keep printing events as they happen, after a first {"type":"following"} line')
    .action(async (options: { follow?: boolean }) => {
      if (options.follow === true) return followApi(deps.stateDir(), '/v1/events?follow=1', deps.print);
      const text = (await callApi(deps.stateDir(), 'GET', '/v1/events')) as string;
      for (const line of text.split('\n')) if (line !== '') deps.print(line);
    });
}
