// Audit Trail: who changed which webhook or token, when, and what changed.

import { html, useEffect, useState } from './vendor/preact-htm.js';
import { formatTime, useApp } from './components.js';

const MASK = '********';

// The fields that differ between before and after, as "field: old → new".
function changes(before, after) {
  if (!before || !after) return [];
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter(
    (key) => key !== 'updated_at' && JSON.stringify(before[key]) !== JSON.stringify(after[key]),
  );
  const show = (value) => (value === undefined || value === null ? '—' : typeof value === 'string' ? value : JSON.stringify(value));
  return keys.map((key) => `${key}: ${show(before[key])} → ${show(after[key])}`);
}

export function AuditPage() {
  const { t, api, notify } = useApp();
  const [entries, setEntries] = useState(null);
  const [next, setNext] = useState(null);
  const load = (cursor) =>
    api
      .get(`/audit?limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)
      .then((page) => {
        setEntries((shown) => (cursor ? [...(shown || []), ...page.items] : page.items));
        setNext(page.next_cursor);
      })
      .catch((e) => notify(e.message, 'error'));
  useEffect(() => {
    load(null);
  }, []);
  return html`
    <section aria-labelledby="page-title">
      <h1 id="page-title">${t('audit.title')}</h1>
      <p class="muted">${t('audit.hint', { mask: MASK })}</p>
      ${!entries
        ? html`<p class="muted">${t('loading')}</p>`
        : entries.length === 0
          ? html`<p class="muted">${t('audit.empty')}</p>`
          : html`
          <table class="grid" id="audit-table">
            <thead><tr>
              <th scope="col">${t('audit.at')}</th>
              <th scope="col">${t('audit.actor')}</th>
              <th scope="col">${t('audit.action')}</th>
              <th scope="col">${t('audit.target')}</th>
              <th scope="col">${t('audit.changes')}</th>
            </tr></thead>
            <tbody>
              ${entries.map((e) => html`
                <tr key=${e.id} data-action=${e.action}>
                  <td>${formatTime(e.at)}</td>
                  <td>${e.actor}</td>
                  <td>${t(`audit.actions.${e.action}`)}</td>
                  <td>${(e.after || e.before || {}).name || ''} <code>${e.target_id}</code></td>
                  <td>${changes(e.before, e.after).map((line) => html`<div>${line}</div>`)}</td>
                </tr>`)}
            </tbody>
          </table>
          ${next && html`<button type="button" onClick=${() => load(next)}>${t('audit.more')}</button>`}`}
    </section>`;
}
