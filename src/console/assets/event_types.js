// Event Types: the catalog, for reference.

import { html, useEffect, useState } from './vendor/preact-htm.js';
import { useApp } from './components.js';
import { localized } from './i18n.js';

export function EventTypesPage() {
  const { t, api, lang, notify } = useApp();
  const [types, setTypes] = useState(null);
  useEffect(() => {
    api.get('/event-types').then((c) => setTypes(c.items)).catch((e) => notify(e.message, 'error'));
  }, []);
  return html`
    <section aria-labelledby="page-title">
      <h1 id="page-title">${t('eventTypes.title')}</h1>
      ${!types
        ? html`<p class="muted">${t('loading')}</p>`
        : html`
          <table class="grid">
            <thead><tr>
              <th scope="col">${t('eventTypes.code')}</th>
              <th scope="col">${t('eventTypes.kind')}</th>
              <th scope="col">${t('eventTypes.group')}</th>
              <th scope="col">${t('eventTypes.name')}</th>
              <th scope="col">${t('eventTypes.severity')}</th>
            </tr></thead>
            <tbody>
              ${types.map((x) => html`
                <tr key=${x.code}>
                  <td><code>${x.code}</code></td>
                  <td>${t(`kind.${x.kind}`)}</td>
                  <td>${localized(x.category.name, lang)} / ${localized(x.group.name, lang)}</td>
                  <td>${localized(x.name, lang)}</td>
                  <td>${t(`severity.${x.default_severity}`)}</td>
                </tr>`)}
            </tbody>
          </table>`}
    </section>`;
}
