// Notification → Delivery Log: deliveries newest first, filters, a chart, and the
// detail of one delivery with every attempt and a Retry button.

import { html, useEffect, useState } from './vendor/preact-htm.js';
import { Drawer, formatTime, useApp } from './components.js';
import { AttemptsChart } from './charts.js';

const STATUSES = ['pending', 'retrying', 'succeeded', 'failed'];
const WINDOWS = { '1h': 3600e3, '24h': 86400e3, '7d': 7 * 86400e3, all: null };

function StatusBadge({ status, t }) {
  const kind = { succeeded: 'ok', failed: 'bad', retrying: 'warn', pending: 'off' }[status];
  return html`<span class="badge ${kind}">${t(`delivery.${status}`)}</span>`;
}

function Attempt({ attempt, t, latest }) {
  return html`
    <section class="attempt" aria-label=${t('attempt.number', { n: attempt.number })}>
      <h3>${t('attempt.number', { n: attempt.number })} · ${formatTime(attempt.started_at)} ·
        ${t('attempt.duration', { ms: attempt.duration_ms })}
        ${attempt.response && html` · HTTP ${attempt.response.status}`}</h3>
      ${attempt.error && html`<p class="error">${t('attempt.error')}: ${attempt.error.kind} — ${attempt.error.message}</p>`}
      <details open=${latest}>
        <summary>${t('attempt.request')}: ${attempt.request.method} ${attempt.request.url}</summary>
        <pre>${attempt.request.headers.map(([n, v]) => `${n}: ${v}`).join('\n')}</pre>
        <pre>${attempt.request.body}</pre>
      </details>
      ${attempt.response && html`
        <details open=${latest}>
          <summary>${t('attempt.response')}: HTTP ${attempt.response.status}</summary>
          <pre>${attempt.response.headers.map(([n, v]) => `${n}: ${v}`).join('\n')}</pre>
          <pre>${attempt.response.body}</pre>
        </details>`}
    </section>`;
}

function DeliveryDetail({ id, onClose, onRetried }) {
  const { t, api, notify } = useApp();
  const [delivery, setDelivery] = useState(null);
  const load = () => api.get(`/deliveries/${id}`).then(setDelivery).catch((e) => notify(e.message, 'error'));
  useEffect(() => {
    load();
  }, [id]);
  const retry = async () => {
    try {
      await api.post(`/deliveries/${id}/retry`);
      notify(t('deliveries.retried'), 'ok');
      onRetried();
      setTimeout(load, 500);
    } catch (error) {
      notify(error.message, 'error');
    }
  };
  const footer = html`
    <button type="button" onClick=${onClose}>${t('close')}</button>
    <button type="button" class="primary" id="delivery-retry" onClick=${retry}>${t('deliveries.retry')}</button>`;
  return html`
    <${Drawer} id="delivery-drawer" title=${t('deliveries.detail', { id })} onClose=${onClose} footer=${footer}>
      ${!delivery
        ? html`<p class="muted">${t('loading')}</p>`
        : html`
          <dl class="facts">
            <dt>${t('deliveries.status')}</dt><dd><${StatusBadge} status=${delivery.status} t=${t} /></dd>
            <dt>${t('deliveries.event')}</dt><dd><code>${delivery.event_id}</code></dd>
            <dt>${t('deliveries.webhook')}</dt><dd><code>${delivery.webhook_id}</code></dd>
            <dt>${t('deliveries.created')}</dt><dd>${formatTime(delivery.created_at)}</dd>
          </dl>
          ${delivery.attempts.length === 0 && html`<p class="muted">${t('attempt.none')}</p>`}
          ${[...delivery.attempts].reverse().map((attempt, index) => html`
            <${Attempt} key=${attempt.id} attempt=${attempt} t=${t} latest=${index === 0} />`)}`}
    <//>`;
}

export function DeliveriesPage() {
  const { t, api, notify } = useApp();
  const [webhooks, setWebhooks] = useState([]);
  const [filters, setFilters] = useState({ webhook: '', status: '', window: '24h' });
  const [items, setItems] = useState(null);
  const [cursor, setCursor] = useState(null);
  const [open, setOpen] = useState(null);
  const [buckets, setBuckets] = useState([]);
  const [replaying, setReplaying] = useState(false);

  const query = (after) => {
    const params = new URLSearchParams({ limit: '50' });
    if (filters.webhook) params.set('webhook_id', filters.webhook);
    if (filters.status) params.set('status', filters.status);
    if (WINDOWS[filters.window]) params.set('since', new Date(Date.now() - WINDOWS[filters.window]).toISOString());
    if (after) params.set('cursor', after);
    return `/deliveries?${params}`;
  };
  const load = async () => {
    try {
      const [page, chart] = await Promise.all([api.get(query()), api.get('/stats/attempts-per-minute?minutes=60')]);
      setItems(page.items);
      setCursor(page.next_cursor);
      setBuckets(chart.buckets);
    } catch (error) {
      notify(error.message, 'error');
    }
  };
  const more = async () => {
    const page = await api.get(query(cursor));
    setItems([...items, ...page.items]);
    setCursor(page.next_cursor);
  };
  useEffect(() => {
    api.get('/webhooks').then((list) => setWebhooks(list.items)).catch(() => {});
  }, []);
  useEffect(() => {
    load();
  }, [filters]);

  const replay = async () => {
    const since = WINDOWS[filters.window] ? new Date(Date.now() - WINDOWS[filters.window]) : new Date(0);
    setReplaying(true);
    try {
      const result = await api.post(`/webhooks/${filters.webhook}/replay`, { since: since.toISOString() });
      notify(t('deliveries.replayed', { count: result.replayed }), 'ok');
      setTimeout(load, 500);
    } catch (error) {
      notify(error.message, 'error');
    }
    setReplaying(false);
  };
  const names = Object.fromEntries(webhooks.map((w) => [w.id, w.name]));
  const set = (key) => (event) => setFilters({ ...filters, [key]: event.target.value });
  return html`
    <section aria-labelledby="page-title">
      <h1 id="page-title">${t('deliveries.title')}</h1>
      <${AttemptsChart} buckets=${buckets} t=${t} />
      <div class="toolbar">
        <label>${t('deliveries.webhook')}
          <select id="filter-webhook" value=${filters.webhook} onChange=${set('webhook')}>
            <option value="">${t('deliveries.anyWebhook')}</option>
            ${webhooks.map((w) => html`<option value=${w.id}>${w.name}</option>`)}
          </select></label>
        <label>${t('deliveries.status')}
          <select id="filter-status" value=${filters.status} onChange=${set('status')}>
            <option value="">${t('deliveries.anyStatus')}</option>
            ${STATUSES.map((s) => html`<option value=${s}>${t(`delivery.${s}`)}</option>`)}
          </select></label>
        <label>${t('deliveries.time')}
          <select id="filter-time" value=${filters.window} onChange=${set('window')}>
            ${Object.keys(WINDOWS).map((w) => html`<option value=${w}>${t(`deliveries.time.${w}`)}</option>`)}
          </select></label>
        <span class="spacer"></span>
        ${filters.webhook && html`
          <button type="button" id="replay-failed" onClick=${replay} disabled=${replaying}>
            ${replaying ? t('deliveries.replaying') : t('deliveries.replay')}</button>`}
        <button type="button" id="deliveries-refresh" aria-label=${t('webhooks.refresh')} title=${t('webhooks.refresh')} onClick=${load}>⟳</button>
      </div>
      ${items === null
        ? html`<p class="muted">${t('loading')}</p>`
        : items.length === 0
          ? html`<p class="empty">${t('deliveries.empty')}</p>`
          : html`
            <table class="grid" id="delivery-table">
              <thead><tr>
                <th scope="col">${t('deliveries.created')}</th>
                <th scope="col">${t('deliveries.webhook')}</th>
                <th scope="col">${t('deliveries.event')}</th>
                <th scope="col">${t('deliveries.status')}</th>
                <th scope="col">${t('deliveries.attempts')}</th>
                <th scope="col">${t('deliveries.lastError')}</th>
              </tr></thead>
              <tbody>
                ${items.map((d) => html`
                  <tr key=${d.id}>
                    <td><button type="button" class="link" aria-label=${t('deliveries.open', { id: d.id })}
                                onClick=${() => setOpen(d.id)}>${formatTime(d.created_at)}</button></td>
                    <td>${names[d.webhook_id] || d.webhook_id}</td>
                    <td><code>${d.event_id}</code></td>
                    <td><${StatusBadge} status=${d.status} t=${t} /></td>
                    <td>${d.attempt_count}</td>
                    <td class="url" title=${d.last_error || ''}>${d.last_error || ''}</td>
                  </tr>`)}
              </tbody>
            </table>
            ${cursor && html`<button type="button" onClick=${more}>${t('deliveries.more')}</button>`}`}
      ${open && html`<${DeliveryDetail} id=${open} onClose=${() => setOpen(null)} onRetried=${() => setTimeout(load, 500)} />`}
    </section>`;
}
