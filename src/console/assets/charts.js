// Small inline-SVG charts: no library, nothing inline that the CSP forbids.

import { html } from './vendor/preact-htm.js';

/// Success share as a bar, with the numbers beside it.
export function HealthBar({ stats, t }) {
  if (!stats || !stats.attempts) return html`<span class="muted">${t('health.none')}</span>`;
  const rate = Math.round(stats.success_rate * 1000) / 10;
  const summary = t('health.summary', { rate, ms: stats.median_latency_ms, count: stats.attempts });
  const width = Math.max(0, Math.min(60, stats.success_rate * 60));
  return html`
    <span class="health" title=${summary}>
      <svg width="60" height="10" viewBox="0 0 60 10" role="img" aria-label=${summary}>
        <rect x="0" y="0" width="60" height="10" rx="2" class="bar-bad" />
        <rect x="0" y="0" width=${width} height="10" rx="2" class="bar-good" />
      </svg>
      <span class="health-text">${rate}% · ${stats.median_latency_ms} ms</span>
    </span>`;
}

/// Stacked bars of delivered / failed attempts per minute.
export function AttemptsChart({ buckets, t }) {
  const width = 600;
  const height = 80;
  const max = Math.max(1, ...buckets.map((b) => b.delivered + b.failed));
  const step = width / Math.max(1, buckets.length);
  const total = buckets.reduce((sum, b) => sum + b.delivered + b.failed, 0);
  const failed = buckets.reduce((sum, b) => sum + b.failed, 0);
  const label = `${t('deliveries.chart')}: ${t('deliveries.delivered')} ${total - failed}, ${t('deliveries.failed')} ${failed}`;
  return html`
    <figure class="chart">
      <svg viewBox="0 0 ${width} ${height}" preserveAspectRatio="none" role="img" aria-label=${label}>
        ${buckets.map((b, i) => {
          const good = (b.delivered / max) * height;
          const bad = (b.failed / max) * height;
          return html`
            <g key=${b.minute}>
              <rect x=${i * step} y=${height - good} width=${Math.max(1, step - 1)} height=${good} class="bar-good">
                <title>${b.minute}: ${b.delivered} / ${b.failed}</title>
              </rect>
              <rect x=${i * step} y=${height - good - bad} width=${Math.max(1, step - 1)} height=${bad} class="bar-bad" />
            </g>`;
        })}
      </svg>
      <figcaption>
        ${t('deliveries.chart')} ·
        <span class="legend good">${t('deliveries.delivered')} ${total - failed}</span>
        <span class="legend bad">${t('deliveries.failed')} ${failed}</span>
      </figcaption>
    </figure>`;
}
