import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { findBinary, makeTempDir, removeDir, REPO_ROOT } from '@chat/testkit';

// The alert rules (issue 11): valid for Prometheus, unit-tested with promtool, each reading a metric the
// nodes export, each shown on the dashboard and explained in docs/alerts.md; Alertmanager's config valid.

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels: { severity: string };
  annotations: { summary: string; description: string; runbook_url: string };
}

const read = (path: string) => readFileSync(join(REPO_ROOT, path), 'utf8');
const run = (tool: string, args: string[], cwd = REPO_ROOT) =>
  execFileSync(findBinary(tool), args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

const rules = (parse(read('deploy/prometheus/alerts.yml')) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules);

/** The metric names an expression reads: label matchers, ranges, groupings and function calls left out. */
const metricsOf = (expr: string) => {
  const bare = expr.replace(/\b(by|without|on|ignoring)\s*\([^)]*\)/g, ' ').replace(/\{[^}]*\}|\[[^\]]*\]/g, ' ');
  const names = [...bare.matchAll(/\b([a-z_][a-z0-9_]*)\b(?!\s*\()/g)].map((m) => m[1]!);
  return [...new Set(names.filter((name) => !['and', 'or', 'unless'].includes(name)))];
};

describe('deploy/prometheus/alerts.yml', () => {
  it('has the alerts operators need, each with a severity and a runbook in docs/alerts.md', () => {
    expect(rules.map((r) => r.alert).sort()).toEqual(
      [
        'ChatAckLatencyHigh',
        'ChatAdmissionRefusals',
        'ChatDatabasePoolWaiting',
        'ChatEventLoopLag',
        'ChatNodeDown',
        'ChatReconnectStorm',
        'ChatRedisDown',
        'ChatReplicaDown',
        'ChatReplicaLag',
        'ChatSendErrors',
        'ChatSendQueueDeep',
      ].sort(),
    );
    const runbook = read('docs/alerts.md');
    for (const rule of rules) {
      expect([rule.alert, rule.labels.severity]).toEqual([rule.alert, expect.stringMatching(/^(critical|warning|info)$/)]);
      expect(rule.annotations.runbook_url).toBe(`docs/alerts.md#${rule.alert.toLowerCase()}`);
      // A section per alert (its heading is the anchor), saying what it means and what to do.
      const section = runbook.split(/^### /m).find((s) => s.startsWith(`${rule.alert}\n`));
      expect([rule.alert, section !== undefined]).toEqual([rule.alert, true]);
      expect(section).toMatch(/\*\*Means\*\*/);
      expect(section).toMatch(/\*\*Do\*\*/);
    }
  });

  it('reads only metrics the nodes export (or Prometheus and prom-client defaults), each shown on the dashboard', () => {
    const exported = read('apps/server/src/metrics.ts');
    const dashboard = read('deploy/grafana/dashboards/chat-cluster.json');
    for (const rule of rules) {
      const metrics = metricsOf(rule.expr);
      expect([rule.alert, metrics.length > 0]).toEqual([rule.alert, true]);
      for (const metric of metrics) {
        const base = metric.replace(/_(bucket|sum|count)$/, '');
        const known = metric === 'up' || metric.startsWith('nodejs_') || exported.includes(`name: '${base}'`);
        expect([rule.alert, metric, known]).toEqual([rule.alert, metric, true]);
        expect([rule.alert, metric, dashboard.includes(base)]).toEqual([rule.alert, metric, true]);
      }
    }
  });

  it('passes `promtool check rules` and every unit test of alerts.test.yml, which covers each alert firing', () => {
    expect(run('promtool', ['check', 'rules', 'alerts.yml'], join(REPO_ROOT, 'deploy/prometheus'))).toMatch(/SUCCESS: 11 rules found/);
    expect(run('promtool', ['test', 'rules', 'alerts.test.yml'], join(REPO_ROOT, 'deploy/prometheus'))).toMatch(/SUCCESS/);
    const tests = read('deploy/prometheus/alerts.test.yml');
    for (const rule of rules) {
      // Each alert has a case where it fires (exp_alerts with labels), not only quiet ones.
      expect([rule.alert, new RegExp(`alertname: ${rule.alert}\\n\\s+exp_alerts:\\n\\s+- exp_labels`).test(tests)]).toEqual([rule.alert, true]);
    }
  });

  it('fails promtool when a rule stops firing on its signal (the unit tests can fail)', () => {
    const dir = makeTempDir('chat-alerts-');
    try {
      // The same rules with the node-down alert waiting 10 minutes instead of 1: its test case must fail.
      writeFileSync(join(dir, 'alerts.yml'), read('deploy/prometheus/alerts.yml').replace('expr: up{job="chat-backend"} == 0\n        for: 1m', 'expr: up{job="chat-backend"} == 0\n        for: 10m'));
      writeFileSync(join(dir, 'alerts.test.yml'), read('deploy/prometheus/alerts.test.yml'));
      expect(() => run('promtool', ['test', 'rules', 'alerts.test.yml'], dir)).toThrow(/ChatNodeDown/);
    } finally {
      removeDir(dir);
    }
  });
});

describe('Prometheus and Alertmanager configuration', () => {
  it('Prometheus loads the rules Compose mounts and sends alerts to the alertmanager service', () => {
    const dir = makeTempDir('chat-prometheus-');
    try {
      const config = read('deploy/prometheus/prometheus.yml');
      const parsed = parse(config) as { rule_files: string[]; alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] } };
      expect(parsed.rule_files).toEqual(['/etc/prometheus/alerts.yml']);
      expect(parsed.alerting.alertmanagers[0]!.static_configs[0]!.targets).toEqual(['alertmanager:9093']);
      // promtool checks the file with the rules where this checkout has them.
      writeFileSync(join(dir, 'prometheus.yml'), config.replace('/etc/prometheus/alerts.yml', join(REPO_ROOT, 'deploy/prometheus/alerts.yml')));
      expect(run('promtool', ['check', 'config', join(dir, 'prometheus.yml')])).toMatch(/SUCCESS: 11 rules found/);
    } finally {
      removeDir(dir);
    }
  });

  it('Alertmanager accepts its configuration', () => {
    expect(run('amtool', ['check-config', 'deploy/alertmanager/alertmanager.yml'])).toMatch(/SUCCESS/);
  });
});
