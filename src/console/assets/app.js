// The console's shell: sign-in, header, navigation, and the page for the current hash.

import { html, render, useCallback, useEffect, useMemo, useState } from './vendor/preact-htm.js';
import { createApi, tokenWorks } from './api.js';
import { AppContext, Notices, setDisplayOffset } from './components.js';
import { LANGUAGES, initialLanguage, rememberLanguage, translate } from './i18n.js';
import { WebhooksPage } from './webhooks.js';
import { DeliveriesPage } from './deliveries.js';
import { EventTypesPage } from './event_types.js';
import { AuditPage } from './audit.js';

const TOKEN_KEY = 'hookcast.token';

const PAGES = {
  webhooks: WebhooksPage,
  deliveries: DeliveriesPage,
  'event-types': EventTypesPage,
  audit: AuditPage,
};

function currentPage() {
  const name = location.hash.replace(/^#\/?/, '').split('?')[0];
  return PAGES[name] ? name : 'webhooks';
}

function SignIn({ lang, onSignedIn, onLanguage }) {
  const t = (key) => translate(lang, key);
  const [token, setToken] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (event) => {
    event.preventDefault();
    setBusy(true);
    setError('');
    try {
      if (await tokenWorks(token.trim())) onSignedIn(token.trim());
      else setError(t('signIn.bad'));
    } catch {
      setError(t('errors.network'));
    }
    setBusy(false);
  };
  return html`
    <main class="sign-in">
      <form onSubmit=${submit} aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">${t('signIn.title')}</h1>
        <label for="token">${t('signIn.token')}</label>
        <input id="token" type="password" autocomplete="current-password" value=${token}
               onInput=${(e) => setToken(e.target.value)} required />
        <p class="hint">${t('signIn.hint')}</p>
        ${error && html`<p class="error" role="alert">${error}</p>`}
        <button type="submit" class="primary" disabled=${busy || !token.trim()}>${t('signIn.submit')}</button>
        <${LanguageSwitch} lang=${lang} onLanguage=${onLanguage} />
      </form>
    </main>`;
}

function LanguageSwitch({ lang, onLanguage }) {
  return html`
    <div class="language-switch" role="group" aria-label=${translate(lang, 'lang.switch')}>
      ${LANGUAGES.map((code) => html`
        <button type="button" lang=${code} aria-pressed=${lang === code} class=${lang === code ? 'active' : ''}
                onClick=${() => onLanguage(code)}>
          ${translate(code, code === 'zh-CN' ? 'lang.zh' : 'lang.en')}
        </button>`)}
    </div>`;
}

function Shell({ lang, onLanguage, token, onSignOut }) {
  const t = (key, vars) => translate(lang, key, vars);
  const [page, setPage] = useState(currentPage());
  const [info, setInfo] = useState(null);
  const [notices, setNotices] = useState([]);
  const api = useMemo(() => createApi(token, onSignOut), [token]);

  useEffect(() => {
    const onHash = () => setPage(currentPage());
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  useEffect(() => {
    api
      .get('/info')
      .then((about) => {
        setDisplayOffset(about.time_zone_offset_minutes);
        setInfo(about);
      })
      .catch(() => {});
  }, [api]);

  const notify = useCallback((text, kind = 'info') => {
    const id = Math.random().toString(36).slice(2);
    setNotices((all) => [...all.slice(-2), { id, text, kind }]);
    setTimeout(() => setNotices((all) => all.filter((n) => n.id !== id)), kind === 'secret' ? 60000 : 6000);
  }, []);
  const dismiss = (id) => setNotices((all) => all.filter((n) => n.id !== id));

  const Page = PAGES[page];
  const link = (name, key) => html`
    <a href="#/${name}" aria-current=${page === name ? 'page' : undefined}>${t(key)}</a>`;
  return html`
    <${AppContext.Provider} value=${{ lang, api, info, notify }}>
      <header class="top">
        <a class="brand" href="#/webhooks">${t('product')}</a>
        <div class="top-right">
          ${info && html`<span class="time-zone" title=${t('timeZone')}>${t('timeZone')}: ${info.time_zone}</span>`}
          <${LanguageSwitch} lang=${lang} onLanguage=${onLanguage} />
          <details class="user-menu">
            <summary>${t('user')}</summary>
            <button type="button" onClick=${onSignOut}>${t('signOut')}</button>
          </details>
        </div>
      </header>
      <div class="layout">
        <nav aria-label=${t('nav.main')}>
          <div class="nav-group">
            <div class="nav-heading" id="nav-notification">${t('nav.notification')}</div>
            <ul aria-labelledby="nav-notification">
              <li>${link('webhooks', 'nav.webhook')}</li>
              <li>${link('deliveries', 'nav.deliveries')}</li>
            </ul>
          </div>
          <ul>
            <li>${link('event-types', 'nav.eventTypes')}</li>
            <li>${link('audit', 'nav.audit')}</li>
          </ul>
        </nav>
        <main id="main"><${Page} /></main>
      </div>
      <${Notices} notices=${notices} onDismiss=${dismiss} />
    <//>`;
}

function App() {
  const [lang, setLang] = useState(initialLanguage());
  const [token, setToken] = useState(sessionStorage.getItem(TOKEN_KEY));
  useEffect(() => {
    document.documentElement.lang = lang;
  }, [lang]);
  const onLanguage = (code) => {
    rememberLanguage(code);
    setLang(code);
  };
  const signIn = (value) => {
    sessionStorage.setItem(TOKEN_KEY, value);
    setToken(value);
  };
  const signOut = () => {
    sessionStorage.removeItem(TOKEN_KEY);
    setToken(null);
  };
  if (!token) return html`<${SignIn} lang=${lang} onSignedIn=${signIn} onLanguage=${onLanguage} />`;
  return html`<${Shell} lang=${lang} onLanguage=${onLanguage} token=${token} onSignOut=${signOut} />`;
}

render(html`<${App} />`, document.getElementById('app'));
