import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../../src/daemon/metrics.js';
import { PACKAGE_ROOT } from '../../../src/paths.js';
import { metricNamesIn, seriesNamesOf } from '../../helpers/promql.js';

interface Target {
  expr?: string;
  refId?: string;
  datasource?: { type?: string; uid?: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
  panels?: Panel[];
}
interface Dashboard {
  panels: Panel[];
  templating: { list: Array<{ name: string; type: string; query?: string | { query: string } }> };
}

const dashboard = JSON.parse(
  readFileSync(join(PACKAGE_ROOT, 'contrib', 'grafana', 'baton.json'), 'utf8'),
) as Dashboard;
const allPanels = (panels: Panel[]): Panel[] => panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
const panels = allPanels(dashboard.panels).filter((p) => p.type !== 'row');

/** The series the daemon really exports: the registry src/daemon/metrics.ts builds. */
async function exportedMetrics(): Promise<Array<{ name: string; type: string }>> {
  return (await createMetrics(() => undefined).registry.getMetricsAsJSON()).map((m) => ({
    name: m.name,
    type: String(m.type),
  }));
}

async function exportedSeries(): Promise<Set<string>> {
  return seriesNamesOf(await exportedMetrics());
}

/** Every metric each query of the dashboard names, by where it is. */
function namesByQuery(): Array<{ where: string; names: string[] }> {
  const queries = panels.flatMap((p) =>
    (p.targets ?? []).map((t) => ({ where: `${p.title} ${t.refId}`, names: metricNamesIn(t.expr ?? '') })),
  );
  const variables = dashboard.templating.list
    .filter((v) => v.type === 'query')
    .map((v) => {
      const query = typeof v.query === 'string' ? v.query : (v.query?.query ?? '');
      const match = /^label_values\(\s*(\w+)\s*,\s*\w+\s*\)$/.exec(query);
      return {
        where: `variable ${v.name}`,
        names: match?.[1] === undefined ? [`unreadable: ${query}`] : [match[1]],
      };
    });
  return [...queries, ...variables];
}

const DATASOURCE = { type: 'prometheus', uid: '$' + '{datasource}' }; // Grafana's variable syntax, not a template.

describe('the Grafana dashboard (contrib/grafana/baton.json)', () => {
  it('queries only metrics the daemon exports, each query at least one', async () => {
    const exported = await exportedSeries();
    const queries = namesByQuery();
    expect(queries.length).toBeGreaterThan(10);
    for (const query of queries) {
      expect(query.names.length, query.where).toBeGreaterThan(0);
      expect(
        query.names.filter((name) => !exported.has(name)),
        query.where,
      ).toEqual([]);
    }
  });

  it('shows every metric the daemon exports somewhere', async () => {
    const used = new Set(namesByQuery().flatMap((q) => q.names));
    const metrics = await exportedMetrics();
    const unshown = metrics.filter((m) => ![...seriesNamesOf([m])].some((series) => used.has(series)));
    expect(unshown.map((m) => m.name)).toEqual([]);
  });

  it('reads every panel from the Prometheus datasource variable, with unique panel ids', () => {
    const variable = dashboard.templating.list.find((v) => v.name === 'datasource');
    expect(variable).toMatchObject({ type: 'datasource', query: 'prometheus' });
    for (const panel of panels) {
      expect(panel.datasource, panel.title).toEqual(DATASOURCE);
      for (const target of panel.targets ?? [])
        expect(target.datasource, panel.title).toEqual(panel.datasource);
    }
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('metricNamesIn (the PromQL reader the dashboard test relies on)', () => {
  it.each([
    ['max(baton_blocked{instance=~"$instance"})', ['baton_blocked']],
    [
      'sum by (le, kind) (increase(baton_detection_seconds_bucket{kind="app"}[$__range]))',
      ['baton_detection_seconds_bucket'],
    ],
    [
      'sum(rate(a_sum[5m])) by (phase) / on (phase) group_left sum(rate(a_count[5m] offset 1h)) or vector(0)',
      ['a_sum', 'a_count'],
    ],
    ['histogram_quantile(0.95, x_bucket) > bool 1e3', ['x_bucket']],
  ])('reads %s', (expr, names) => {
    expect(metricNamesIn(expr)).toEqual(names);
  });

  it('finds a misspelt metric, and refuses an unknown function or unbalanced brackets', async () => {
    const exported = await exportedSeries();
    expect(metricNamesIn('sum(baton_failover_total)').filter((n) => !exported.has(n))).toEqual([
      'baton_failover_total',
    ]);
    expect(exported.has('baton_failover_phase_seconds')).toBe(false); // A histogram is read by its series.
    expect(() => metricNamesIn('summ(baton_blocked)')).toThrow("no function 'summ'");
    expect(() => metricNamesIn('sum(baton_blocked')).toThrow("unbalanced '('");
    expect(() => metricNamesIn('baton_blocked{vm="a"')).toThrow("unbalanced '{'");
  });
});
