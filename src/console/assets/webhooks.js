// Notification → WebHook: the list, its actions, and the drawer.

import { html, useEffect, useState } from './vendor/preact-htm.js';
import { ConfirmDialog, Menu, useApp } from './components.js';
import { HealthBar } from './charts.js';
import { WebhookDrawer } from './webhook_drawer.js';

const SORTABLE = ['name', 'url', 'kind', 'language', 'auth', 'status'];

function sortValue(webhook, key) {
  if (key === 'auth') return webhook.auth.type;
  if (key === 'status') return webhook.enabled ? 'a' : `b${webhook.disabled_reason || ''}`;
  return String(webhook[key] || '').toLowerCase();
}

function StatusBadge({ webhook, t }) {
  if (webhook.enabled) return html`<span class="badge ok">${t('status.enabled')}</span>`;
  const automatic = webhook.disabled_reason && webhook.disabled_reason !== 'manual';
  const reason = t(`reason.${webhook.disabled_reason || 'manual'}`);
  return html`<span class="badge ${automatic ? 'bad' : 'off'}" title=${reason} aria-label=${reason}>
    ${automatic ? t('status.auto') : t('status.disabled')}</span>`;
}

export function WebhooksPage() {
  const { t, api, notify } = useApp();
  const [webhooks, setWebhooks] = useState(null);
  const [health, setHealth] = useState({});
  const [search, setSearch] = useState('');
  const [sort, setSort] = useState({ key: 'name', dir: 1 });
  const [selected, setSelected] = useState(new Set());
  const [drawer, setDrawer] = useState(null);
  const [confirm, setConfirm] = useState(null);
  const [progress, setProgress] = useState(null);

  const load = async () => {
    try {
      const [list, stats] = await Promise.all([api.get('/webhooks'), api.get('/stats/webhooks')]);
      setWebhooks(list.items);
      setHealth(Object.fromEntries(stats.items.map((s) => [s.webhook_id, s])));
      setSelected((old) => new Set([...old].filter((id) => list.items.some((w) => w.id === id))));
    } catch (error) {
      notify(error.message, 'error');
    }
  };
  useEffect(() => {
    load();
  }, []);

  const visible = (webhooks || [])
    .filter((w) => w.name.toLowerCase().includes(search.trim().toLowerCase()))
    .sort((a, b) => (sortValue(a, sort.key) < sortValue(b, sort.key) ? -sort.dir : sortValue(a, sort.key) > sortValue(b, sort.key) ? sort.dir : 0));

  const toggle = (id) => {
    const next = new Set(selected);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setSelected(next);
  };
  const allSelected = visible.length > 0 && visible.every((w) => selected.has(w.id));
  const toggleAll = () => setSelected(allSelected ? new Set() : new Set(visible.map((w) => w.id)));

  /// Runs an action on several webhooks one by one, showing progress.
  const bulk = async (label, ids, run) => {
    let done = 0;
    setProgress({ done, total: ids.length });
    for (const id of ids) {
      try {
        await run(id);
        done += 1;
      } catch (error) {
        notify(error.message, 'error');
      }
      setProgress({ done, total: ids.length });
    }
    setProgress(null);
    notify(t('bulk.done', { action: label, done, total: ids.length }), done === ids.length ? 'ok' : 'error');
    setSelected(new Set());
    load();
  };
  const setEnabled = (ids, enabled) =>
    bulk(t(enabled ? 'action.enable' : 'action.disable'), ids, (id) => api.post(`/webhooks/${id}/${enabled ? 'enable' : 'disable'}`));
  const askDelete = (ids) => setConfirm({ ids, names: ids.map((id) => webhooks.find((w) => w.id === id)?.name) });
  const doDelete = () => {
    const { ids } = confirm;
    setConfirm(null);
    bulk(t('action.delete'), ids, (id) => api.del(`/webhooks/${id}`));
  };
  const send = async (webhook) => {
    try {
      const result = await api.post(`/webhooks/${webhook.id}/test`);
      notify(
        result.ok
          ? `${webhook.name}: ${t('test.ok', { status: result.status, ms: result.duration_ms })}`
          : `${webhook.name}: ${t('test.failed', { ms: result.duration_ms, error: result.error })}`,
        result.ok ? 'ok' : 'error',
      );
      load();
    } catch (error) {
      notify(error.message, 'error');
    }
  };
  const saved = (webhook, created, secret) => {
    setDrawer(null);
    notify(t(created ? 'saved.created' : 'saved.updated', { name: webhook.name }), 'ok');
    if (secret) notify(t('saved.secret', { secret }), 'secret');
    load();
  };

  const header = (key, label) => {
    const active = sort.key === key;
    return html`
      <th scope="col" aria-sort=${active ? (sort.dir > 0 ? 'ascending' : 'descending') : 'none'}>
        <button type="button" class="sort" onClick=${() => setSort({ key, dir: active ? -sort.dir : 1 })}>
          ${label}<span aria-hidden="true">${active ? (sort.dir > 0 ? ' ▲' : ' ▼') : ''}</span>
        </button>
      </th>`;
  };
  const selectedIds = [...selected];
  return html`
    <section aria-labelledby="page-title">
      <h1 id="page-title">${t('webhooks.title')}</h1>
      <div class="toolbar">
        <button type="button" class="primary" id="add-webhook" onClick=${() => setDrawer({ mode: 'add' })}>
          ${t('webhooks.add')}</button>
        <${Menu} id="bulk-action" label=${t('webhooks.action')} disabled=${selectedIds.length === 0 || progress}
          items=${[
            { label: t('action.enable'), onSelect: () => setEnabled(selectedIds, true) },
            { label: t('action.disable'), onSelect: () => setEnabled(selectedIds, false) },
            { label: t('action.delete'), danger: true, onSelect: () => askDelete(selectedIds) },
          ]} />
        ${progress && html`<span class="progress" role="status">
          <progress max=${progress.total} value=${progress.done}></progress>
          ${t('bulk.progress', progress)}</span>`}
        <span class="spacer"></span>
        <input type="search" id="webhook-search" aria-label=${t('webhooks.search')} placeholder=${t('webhooks.search')}
               value=${search} onInput=${(e) => setSearch(e.target.value)} />
        <button type="button" id="refresh" aria-label=${t('webhooks.refresh')} title=${t('webhooks.refresh')} onClick=${load}>⟳</button>
      </div>
      ${webhooks === null
        ? html`<p class="muted">${t('loading')}</p>`
        : webhooks.length === 0
          ? html`<div class="empty"><p>${t('webhooks.empty')}</p>
              <button type="button" class="primary" onClick=${() => setDrawer({ mode: 'add' })}>${t('webhooks.add')}</button></div>`
          : html`
            <table class="grid" id="webhook-table">
              <thead><tr>
                <th scope="col" class="check"><input type="checkbox" aria-label=${t('webhooks.selectAll')}
                    checked=${allSelected} onChange=${toggleAll} /></th>
                ${header('name', t('col.name'))}
                ${header('url', t('col.url'))}
                ${header('kind', t('col.type'))}
                ${header('language', t('col.language'))}
                ${header('auth', t('col.auth'))}
                ${header('status', t('col.status'))}
                <th scope="col">${t('col.health')}</th>
                <th scope="col">${t('col.actions')}</th>
              </tr></thead>
              <tbody>
                ${visible.length === 0 && html`<tr><td colspan="9" class="muted">${t('webhooks.noMatch')}</td></tr>`}
                ${visible.map((w) => html`
                  <tr key=${w.id} data-name=${w.name}>
                    <td class="check"><input type="checkbox" aria-label=${t('webhooks.select', { name: w.name })}
                        checked=${selected.has(w.id)} onChange=${() => toggle(w.id)} /></td>
                    <td class="name">${w.name}</td>
                    <td class="url" title=${w.url}>${w.url}</td>
                    <td>${t(`kind.${w.kind}`)}</td>
                    <td>${t(`language.${w.language}`)}</td>
                    <td>${t(`auth.${w.auth.type}`)}</td>
                    <td><${StatusBadge} webhook=${w} t=${t} /></td>
                    <td><${HealthBar} stats=${health[w.id]} t=${t} /></td>
                    <td class="row-actions">
                      <button type="button" class="link" aria-label="${t('action.modify')} ${w.name}"
                              onClick=${() => setDrawer({ mode: 'modify', webhook: w })}>${t('action.modify')}</button>
                      ${w.enabled
                        ? html`<button type="button" class="link" aria-label="${t('action.disable')} ${w.name}"
                                 onClick=${() => setEnabled([w.id], false)}>${t('action.disable')}</button>`
                        : html`<button type="button" class="link" aria-label="${t('action.enable')} ${w.name}"
                                 onClick=${() => setEnabled([w.id], true)}>${t('action.enable')}</button>`}
                      <button type="button" class="link" aria-label="${t('action.send')} ${w.name}"
                              onClick=${() => send(w)}>${t('action.send')}</button>
                      <button type="button" class="link danger-text" aria-label="${t('action.delete')} ${w.name}"
                              onClick=${() => askDelete([w.id])}>${t('action.delete')}</button>
                    </td>
                  </tr>`)}
              </tbody>
            </table>`}
      ${drawer && html`<${WebhookDrawer} key=${drawer.webhook ? drawer.webhook.id : 'new'} webhook=${drawer.webhook}
                         onClose=${() => setDrawer(null)} onSaved=${saved} />`}
      ${confirm && html`<${ConfirmDialog} danger title=${t('delete.title')}
          message=${confirm.ids.length === 1 ? t('delete.one', { name: confirm.names[0] }) : t('delete.many', { count: confirm.ids.length })}
          confirmLabel=${t('delete.confirm')} cancelLabel=${t('cancel')}
          onConfirm=${doDelete} onCancel=${() => setConfirm(null)} />`}
    </section>`;
}
