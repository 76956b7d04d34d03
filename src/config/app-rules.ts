// Cross-field rules of an app's command: argv or unit, the fields only argv apps have, the health check's kind and its fields, the agent's line limit.
import { AGENT_MAX_LINE_BYTES } from '../agent/protocol.js';
import type { ConfigProblem } from './problems.js';
import type { AppSettings, BatonConfig } from './types.js';

/** Room kept in the agent's line for the request's envelope, serial, memory and node fields. */
const START_REQUEST_OVERHEAD_BYTES = 400;

/** What each health kind may carry besides intervalMs, timeoutMs and failuresToUnhealthy. */
const HEALTH_FIELDS = { line: ['send', 'expect'], tcp: [], http: ['path'], exec: ['argv'] } as const;
const OPTIONAL_HEALTH_FIELDS = ['send', 'expect', 'path', 'argv'] as const;

export function checkAppCommands(config: BatonConfig): ConfigProblem[] {
  return config.apps.flatMap((app, index) => [
    ...checkCommand(app, `apps[${index}]`),
    ...checkHealth(app, `apps[${index}].health`),
    ...checkRequestSize(app, `apps[${index}]`),
  ]);
}

function checkCommand(app: AppSettings, at: string): ConfigProblem[] {
  if ((app.argv === undefined) === (app.unit === undefined)) {
    return [
      {
        path: at,
        message: `expected exactly one of argv and unit, got ${app.argv === undefined ? 'neither' : 'both'}`,
      },
    ];
  }
  if (app.unit === undefined) return [];
  return (['user', 'group', 'env', 'workdir'] as const)
    .filter((field) => app[field] !== undefined)
    .map((field) => ({
      path: `${at}.${field}`,
      message: `expected no ${field} for a unit app (its unit file sets it), got ${JSON.stringify(app[field])}`,
    }));
}

function checkHealth(app: AppSettings, at: string): ConfigProblem[] {
  const kind = app.health.kind ?? 'line';
  const allowed: readonly string[] = HEALTH_FIELDS[kind];
  const problems: ConfigProblem[] = OPTIONAL_HEALTH_FIELDS.filter(
    (field) => app.health[field] !== undefined && !allowed.includes(field),
  ).map((field) => ({
    path: `${at}.${field}`,
    message: `expected no ${field} for health kind ${kind} (${field} belongs to kind ${kindOf(field)})`,
  }));
  if (kind === 'exec' && app.health.argv === undefined) {
    problems.push({
      path: `${at}.argv`,
      message: 'expected the command to run for health kind exec, got none',
    });
  }
  return problems;
}

function kindOf(field: (typeof OPTIONAL_HEALTH_FIELDS)[number]): string {
  return field === 'path' ? 'http' : field === 'argv' ? 'exec' : 'line';
}

/** The agent reads one line per request: argv, env, prepare and the health command together must fit. */
function checkRequestSize(app: AppSettings, at: string): ConfigProblem[] {
  const bytes =
    Buffer.byteLength(
      JSON.stringify({
        argv: app.argv,
        unit: app.unit,
        user: app.user,
        group: app.group,
        env: app.env,
        workdir: app.workdir,
        disk: app.dataDisk,
        health: app.health,
      }),
    ) + START_REQUEST_OVERHEAD_BYTES;
  if (bytes <= AGENT_MAX_LINE_BYTES) return [];
  return [
    {
      path: at,
      message: `expected an app.start request within the agent's ${AGENT_MAX_LINE_BYTES}-byte line (argv, env, dataDisk.prepare and health.argv together), got about ${bytes} bytes`,
    },
  ];
}
