// "Configure WebHook Service": add or modify a webhook; Send Test checks the unsaved
// form against the target; Cancel discards it.

import { html, useEffect, useState } from './vendor/preact-htm.js';
import { Drawer, Field, useApp } from './components.js';
import { EventTree } from './event_tree.js';

const AUTH_TYPES = ['none', 'basic', 'bearer', 'api_key', 'hmac', 'dingtalk_sign', 'feishu_sign'];
const FORMATS = ['json', 'feishu', 'dingtalk', 'wecom', 'slack', 'discord', 'teams', 'telegram', 'template'];
/// Auth fields per type; the secret ones are never shown again once stored.
const AUTH_FIELDS = {
  none: [],
  basic: [['username', 'text'], ['password', 'secret']],
  bearer: [['token', 'secret']],
  api_key: [['header', 'text'], ['value', 'secret']],
  hmac: [['secret', 'secret']],
  dingtalk_sign: [['secret', 'secret']],
  feishu_sign: [['secret', 'secret']],
};

/// The chat platform a URL belongs to, judged by its host.
export function suggestFormat(url) {
  let host = '';
  try {
    host = new URL(url).hostname.toLowerCase();
  } catch {
    return 'json';
  }
  const rules = [
    [/(^|\.)open\.(feishu\.cn|larksuite\.com)$/, 'feishu'],
    [/(^|\.)oapi\.dingtalk\.com$/, 'dingtalk'],
    [/(^|\.)qyapi\.weixin\.qq\.com$/, 'wecom'],
    [/(^|\.)hooks\.slack\.com$/, 'slack'],
    [/(^|\.)discord(app)?\.com$/, 'discord'],
    [/(^|\.)api\.telegram\.org$/, 'telegram'],
    [/(\.logic\.azure\.com|\.webhook\.office\.com|\.powerplatform\.com)$/, 'teams'],
  ];
  const rule = rules.find(([pattern]) => pattern.test(host));
  return rule ? rule[1] : 'json';
}

/// Formats whose messages can @mention people.
const MENTION_FORMATS = ['feishu', 'dingtalk', 'wecom', 'slack', 'discord'];

function splitList(text) {
  return text.split(/[,，\s]+/).map((x) => x.trim()).filter(Boolean);
}

function initialForm(webhook) {
  if (!webhook) {
    return {
      kind: 'events', name: '', url: '', language: 'zh-CN', authType: 'none', auth: {},
      format: 'json', formatTouched: false, enabled: true, eventTypes: new Set(),
      templateBody: '', templateContentType: 'application/json', timeZone: '',
      mentionAll: false, mentionUsers: '', mentionMobiles: '',
    };
  }
  const auth = {};
  for (const [field, kind] of AUTH_FIELDS[webhook.auth.type] || []) {
    if (kind === 'text') auth[field] = webhook.auth[field] || '';
  }
  return {
    kind: webhook.kind, name: webhook.name, url: webhook.url, language: webhook.language,
    authType: webhook.auth.type, auth, format: webhook.format, formatTouched: true,
    enabled: webhook.enabled, eventTypes: new Set(webhook.event_types),
    templateBody: webhook.template ? webhook.template.body : '',
    templateContentType: webhook.template ? webhook.template.content_type : 'application/json',
    timeZone: webhook.time_zone || '',
    mentionAll: Boolean(webhook.mentions && webhook.mentions.all),
    mentionUsers: ((webhook.mentions && webhook.mentions.user_ids) || []).join(', '),
    mentionMobiles: ((webhook.mentions && webhook.mentions.mobiles) || []).join(', '),
  };
}

export function WebhookDrawer({ webhook, onClose, onSaved }) {
  const { t, api, lang } = useApp();
  const [form, setForm] = useState(() => initialForm(webhook));
  const [types, setTypes] = useState([]);
  const [errors, setErrors] = useState({});
  const [general, setGeneral] = useState('');
  const [test, setTest] = useState(null);
  const [busy, setBusy] = useState(false);
  const modifying = Boolean(webhook);

  useEffect(() => {
    api.get('/event-types').then((catalog) => setTypes(catalog.items.filter((x) => x.subscribable)));
  }, []);

  const update = (changes) => setForm((old) => ({ ...old, ...changes }));
  const setKind = (kind) => {
    // Subscriptions of the other kind cannot be kept: events and alarms do not mix.
    const eventKind = kind === 'events' ? 'event' : 'alarm';
    const keep = [...form.eventTypes].filter((code) => types.find((x) => x.code === code)?.kind === eventKind);
    update({ kind, eventTypes: new Set(keep) });
  };
  const setUrl = (url) => update(form.formatTouched ? { url } : { url, format: suggestFormat(url) });
  const setAuthField = (field, value) => update({ auth: { ...form.auth, [field]: value } });

  const body = () => {
    const auth = { type: form.authType };
    for (const [field, kind] of AUTH_FIELDS[form.authType]) {
      const value = form.auth[field] || '';
      // An empty secret means "keep the stored one" (or, for HMAC, "generate one").
      if (kind === 'text' || value !== '') auth[field] = value;
    }
    return {
      kind: form.kind, name: form.name, url: form.url, language: form.language, auth,
      format: form.format, enabled: form.enabled, event_types: [...form.eventTypes],
      template: form.format === 'template'
        ? { body: form.templateBody, content_type: form.templateContentType || 'application/json' }
        : null,
      time_zone: form.timeZone.trim() || null,
      mentions: {
        all: form.mentionAll,
        user_ids: splitList(form.mentionUsers),
        mobiles: splitList(form.mentionMobiles),
      },
    };
  };
  const showErrors = (error) => {
    const fields = error.fieldErrors ? error.fieldErrors() : {};
    setErrors(fields);
    setGeneral(Object.keys(fields).length ? t('errors.fix') : error.message);
  };
  const sendTest = async () => {
    setBusy(true);
    setTest({ pending: true });
    setErrors({});
    setGeneral('');
    try {
      setTest(await api.post('/webhooks/test', body()));
    } catch (error) {
      setTest(null);
      showErrors(error);
    }
    setBusy(false);
  };
  const submit = async (event) => {
    event.preventDefault();
    setBusy(true);
    setErrors({});
    setGeneral('');
    try {
      const saved = modifying ? await api.patch(`/webhooks/${webhook.id}`, body()) : await api.post('/webhooks', body());
      const secret = !modifying && saved.auth.type === 'hmac' && saved.auth.secret !== '********' ? saved.auth.secret : null;
      onSaved(saved, !modifying, secret);
    } catch (error) {
      showErrors(error);
    }
    setBusy(false);
  };

  const error = (field) => errors[field];
  const eventTypeError = Object.entries(errors)
    .filter(([field]) => field.startsWith('event_types'))
    .map(([, message]) => message)
    .join('; ');
  const describedBy = (id, hint) => [hint && `${id}-hint`, error(id) && `${id}-error`].filter(Boolean).join(' ') || undefined;
  const eventKind = form.kind === 'events' ? 'event' : 'alarm';
  const suggested = !form.formatTouched && form.format === suggestFormat(form.url) && form.format !== 'json';

  const footer = html`
    <button type="button" id="drawer-cancel" onClick=${onClose}>${t('cancel')}</button>
    <button type="button" id="drawer-test" onClick=${sendTest} disabled=${busy}>${t('sendTest')}</button>
    <button type="submit" form="webhook-form" id="drawer-submit" class="primary" disabled=${busy}>${t('submit')}</button>`;

  return html`
    <${Drawer} id="webhook-drawer" title=${t('drawer.title')} onClose=${onClose} footer=${footer}>
      <form id="webhook-form" onSubmit=${submit} novalidate>
        ${general && html`<div class="error-banner" role="alert">${general}</div>`}
        <fieldset class="field">
          <legend>${t('field.kind')}</legend>
          <div class="segmented">
            ${['events', 'alarms'].map((kind) => html`
              <label><input type="radio" name="kind" value=${kind} checked=${form.kind === kind}
                            onChange=${() => setKind(kind)} /> ${t(`kind.${kind}`)}</label>`)}
          </div>
        </fieldset>
        <${Field} id="name" label=${t('field.name')} required error=${error('name')}>
          <input id="name" value=${form.name} maxlength="64" aria-required="true" aria-invalid=${Boolean(error('name'))}
                 aria-describedby=${describedBy('name')} onInput=${(e) => update({ name: e.target.value })} />
        <//>
        <${Field} id="url" label=${t('field.url')} required error=${error('url')}>
          <input id="url" type="url" value=${form.url} aria-required="true" aria-invalid=${Boolean(error('url'))}
                 aria-describedby=${describedBy('url')} placeholder="https://open.feishu.cn/open-apis/bot/v2/hook/…"
                 onInput=${(e) => setUrl(e.target.value)} />
        <//>
        <${Field} id="language" label=${t('field.language')} error=${error('language')}>
          <select id="language" value=${form.language} onChange=${(e) => update({ language: e.target.value })}>
            <option value="zh-CN">${t('language.zh-CN')}</option>
            <option value="en-US">${t('language.en-US')}</option>
          </select>
        <//>
        <${Field} id="auth-type" label=${t('field.auth')} error=${error('auth.type')}>
          <select id="auth-type" value=${form.authType} onChange=${(e) => update({ authType: e.target.value, auth: {} })}>
            ${AUTH_TYPES.map((type) => html`<option value=${type}>${t(`auth.${type}`)}</option>`)}
          </select>
        <//>
        ${AUTH_FIELDS[form.authType].map(([field, kind]) => {
          const id = `auth-${field}`;
          const stored = modifying && kind === 'secret' && webhook.auth.type === form.authType;
          const hint = form.authType === 'hmac' && !stored ? t('field.secret.hmacHint') : stored ? t('field.keepSecret') : null;
          return html`
            <${Field} id=${id} label=${t(`field.${field}`)} required=${form.authType !== 'hmac' && !stored}
                      error=${error(`auth.${field}`)} hint=${hint}>
              <input id=${id} type=${kind === 'secret' ? 'password' : 'text'} autocomplete="off"
                     value=${form.auth[field] || ''} placeholder=${stored ? '********' : ''}
                     aria-invalid=${Boolean(error(`auth.${field}`))} aria-describedby=${describedBy(id, hint)}
                     onInput=${(e) => setAuthField(field, e.target.value)} />
            <//>`;
        })}
        <${Field} id="format" label=${t('field.format')} error=${error('format')}
                  hint=${suggested ? t('field.format.suggested') : null}>
          <select id="format" value=${form.format} onChange=${(e) => update({ format: e.target.value, formatTouched: true })}>
            ${FORMATS.map((format) => html`<option value=${format}>${t(`format.${format}`)}</option>`)}
          </select>
        <//>
        ${form.format === 'template' && html`
          <${Field} id="template-body" label=${t('field.templateBody')} required error=${error('template.body') || error('template')}
                    hint=${t('field.templateHint')}>
            <textarea id="template-body" rows="8" spellcheck="false" value=${form.templateBody}
                      aria-describedby=${describedBy('template-body', true)}
                      onInput=${(e) => update({ templateBody: e.target.value })}></textarea>
          <//>
          <${Field} id="template-content-type" label=${t('field.templateContentType')} error=${error('template.content_type')}>
            <input id="template-content-type" value=${form.templateContentType}
                   onInput=${(e) => update({ templateContentType: e.target.value })} />
          <//>`}
        ${MENTION_FORMATS.includes(form.format) && html`
          <fieldset class="field">
            <legend>${t('field.mentions')}</legend>
            <label class="inline"><input type="checkbox" id="mention-all" checked=${form.mentionAll}
                   onChange=${(e) => update({ mentionAll: e.target.checked })} /> ${t('field.mentionAll')}</label>
            <label for="mention-users">${t('field.mentionUsers')}</label>
            <input id="mention-users" value=${form.mentionUsers} onInput=${(e) => update({ mentionUsers: e.target.value })} />
            <label for="mention-mobiles">${t('field.mentionMobiles')}</label>
            <input id="mention-mobiles" value=${form.mentionMobiles} onInput=${(e) => update({ mentionMobiles: e.target.value })} />
            ${Object.entries(errors).filter(([f]) => f.startsWith('mentions')).map(([, m]) => html`<div class="error" role="alert">${m}</div>`)}
          </fieldset>`}
        <${Field} id="time-zone" label=${t('field.timeZone')} error=${error('time_zone')} hint=${t('field.timeZoneHint')}>
          <input id="time-zone" value=${form.timeZone} placeholder="UTC+08:00" aria-describedby=${describedBy('time-zone', true)}
                 onInput=${(e) => update({ timeZone: e.target.value })} />
        <//>
        <div class="field switch-field">
          <label for="enabled">${t('field.enabled')}</label>
          <input id="enabled" type="checkbox" role="switch" checked=${form.enabled}
                 onChange=${(e) => update({ enabled: e.target.checked })} />
        </div>
        <div class="field ${eventTypeError ? 'has-error' : ''}">
          <div class="label" id="event-types-label">${t('field.eventTypes')}<span class="required" aria-hidden="true"> *</span></div>
          <${EventTree} types=${types.filter((x) => x.kind === eventKind)} selected=${form.eventTypes}
                        onChange=${(eventTypes) => update({ eventTypes })} lang=${lang} t=${t}
                        invalid=${Boolean(eventTypeError)} describedBy=${eventTypeError ? 'event-types-error' : undefined} />
          ${eventTypeError && html`<div class="error" id="event-types-error" role="alert">${eventTypeError}</div>`}
        </div>
        ${test && html`
          <div class="test-result ${test.pending ? '' : test.ok ? 'ok' : 'bad'}" id="test-result" role="status">
            ${test.pending
              ? t('test.sending')
              : test.ok
                ? t('test.ok', { status: test.status, ms: test.duration_ms })
                : t('test.failed', { ms: test.duration_ms, error: test.error })}
            ${!test.pending && test.response && html`<div class="answer"><span>${t('test.answer')}:</span>
              <pre>${test.response}</pre></div>`}
          </div>`}
      </form>
    <//>`;
}
