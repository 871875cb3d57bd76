/** Features: adoption share, use and frustration per feature of the catalog, with its class. */
import { adoptionGroups, horizontalBars } from '../charts/chart-specs.js';
import { ADOPTION_CLASSES } from '../../analyses/adoption/adoption-result.js';
import { p, table, type ReportSection } from '../report-document.js';
import { count, pct } from '../report-format.js';
import type { ReportData } from '../report-data.js';

export function featuresSection(data: ReportData): ReportSection {
  if (!data.adoption.ok) return { id: 'features', title: 'Features', blocks: [p(`Not available: ${data.adoption.reason}.`)] };
  const a = data.adoption.value;
  const t = a.definition.thresholds;
  const present = ADOPTION_CLASSES.filter((c) => a.features.some((f) => f.class === c));
  return {
    id: 'features',
    title: 'Features',
    blocks: [
      p(
        `${count(a.active_users)} people were active. A feature is adopted at ≥ ${pct(t.adopted_min_share, 0)} of active users, ignored at ≤ ${pct(t.ignored_max_share, 0)}, `,
        `frustrating when ≥ ${pct(t.frustrating_min_rate, 0)} of its sessions have a signal on it, and needs ${count(t.min_users)} users to be judged.`,
      ),
      table(
        ['feature', 'class', { title: 'users', align: 'right' }, { title: 'share of active', align: 'right' }, { title: 'uses', align: 'right' }, { title: 'uses per user', align: 'right' }, { title: 'frustrated sessions', align: 'right' }, 'why'],
        a.features.map((f) => [f.name, f.class.replace('_', ' '), count(f.users), pct(f.share), count(f.uses), count(f.frequency.uses_per_user_mean, 1), pct(f.frustration.rate), f.reason.text]),
      ),
      ...(a.features.length === 0 || a.active_users === 0
        ? []
        : [
            {
              type: 'chart' as const,
              file: 'features.svg',
              alt: `Share of active users who used each feature in ${data.month.month}, coloured by class`,
              spec: horizontalBars(
                a.features.map((f) => ({ label: f.name, value: f.share ?? 0, text: pct(f.share), group: f.class })),
                { title: `Feature adoption, ${data.month.month}`, valueTitle: 'share of active users', format: '.0%', groups: adoptionGroups([...present]), max: Math.min(1, Math.max(0.1, ...a.features.map((f) => (f.share ?? 0) * 1.3))) },
              ),
            },
          ]),
    ],
  };
}
