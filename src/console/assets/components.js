// Shared pieces: the app context, dialogs, the drawer shell, menus, notices.

import { html, createContext, useContext, useEffect, useRef, useState } from './vendor/preact-htm.js';
import { translate } from './i18n.js';

/// `{ lang, api, info, notify }`, provided by the app.
export const AppContext = createContext(null);

export function useApp() {
  const app = useContext(AppContext);
  const t = (key, vars) => translate(app.lang, key, vars);
  return { ...app, t };
}

/// Calls `onEscape` when Escape is pressed while mounted.
function useEscape(onEscape) {
  useEffect(() => {
    const handler = (event) => {
      if (event.key === 'Escape') onEscape();
    };
    document.addEventListener('keydown', handler);
    return () => document.removeEventListener('keydown', handler);
  }, [onEscape]);
}

/// Moves focus into `ref` when it mounts and back where it was when it unmounts.
function useFocusInside(ref) {
  useEffect(() => {
    const before = document.activeElement;
    const first = ref.current && ref.current.querySelector('input, select, textarea, button');
    if (first) first.focus();
    return () => before && before.focus && before.focus();
  }, []);
}

export function Drawer({ title, onClose, children, footer, id }) {
  const { t } = useApp();
  const ref = useRef();
  useEscape(onClose);
  useFocusInside(ref);
  return html`
    <div class="overlay" onClick=${onClose}></div>
    <aside class="drawer" role="dialog" aria-modal="true" aria-labelledby="${id}-title" id=${id} ref=${ref}>
      <header class="drawer-head">
        <h2 id="${id}-title">${title}</h2>
        <button type="button" class="icon" aria-label=${t('close')} onClick=${onClose}>×</button>
      </header>
      <div class="drawer-body">${children}</div>
      ${footer && html`<footer class="drawer-foot">${footer}</footer>`}
    </aside>`;
}

export function ConfirmDialog({ title, message, confirmLabel, cancelLabel, onConfirm, onCancel, danger }) {
  const ref = useRef();
  useEscape(onCancel);
  useEffect(() => {
    const cancel = ref.current && ref.current.querySelector('button.cancel');
    if (cancel) cancel.focus();
  }, []);
  return html`
    <div class="overlay" onClick=${onCancel}></div>
    <div class="dialog" role="alertdialog" aria-modal="true" aria-labelledby="confirm-title"
         aria-describedby="confirm-message" ref=${ref}>
      <h2 id="confirm-title">${title}</h2>
      <p id="confirm-message">${message}</p>
      <div class="dialog-actions">
        <button type="button" class="cancel" onClick=${onCancel}>${cancelLabel}</button>
        <button type="button" class=${danger ? 'danger' : 'primary'} onClick=${onConfirm}>${confirmLabel}</button>
      </div>
    </div>`;
}

/// A button that opens a list of actions; arrow keys move, Escape closes.
export function Menu({ label, items, disabled, id }) {
  const [open, setOpen] = useState(false);
  const ref = useRef();
  useEffect(() => {
    if (!open) return undefined;
    const outside = (event) => {
      if (ref.current && !ref.current.contains(event.target)) setOpen(false);
    };
    document.addEventListener('mousedown', outside);
    const first = ref.current.querySelector('[role=menuitem]:not([disabled])');
    if (first) first.focus();
    return () => document.removeEventListener('mousedown', outside);
  }, [open]);
  const onKeyDown = (event) => {
    const entries = [...ref.current.querySelectorAll('[role=menuitem]:not([disabled])')];
    const index = entries.indexOf(document.activeElement);
    if (event.key === 'Escape') {
      setOpen(false);
      ref.current.querySelector('button').focus();
    } else if (event.key === 'ArrowDown' && entries.length) {
      event.preventDefault();
      entries[(index + 1) % entries.length].focus();
    } else if (event.key === 'ArrowUp' && entries.length) {
      event.preventDefault();
      entries[(index - 1 + entries.length) % entries.length].focus();
    }
  };
  return html`
    <div class="menu" ref=${ref} onKeyDown=${onKeyDown}>
      <button type="button" id=${id} aria-haspopup="menu" aria-expanded=${open} disabled=${disabled}
              onClick=${() => setOpen(!open)}>${label} ▾</button>
      ${open && html`
        <ul role="menu" aria-labelledby=${id}>
          ${items.map((item) => html`
            <li role="none">
              <button type="button" role="menuitem" class=${item.danger ? 'danger-text' : ''} disabled=${item.disabled}
                      onClick=${() => { setOpen(false); item.onSelect(); }}>${item.label}</button>
            </li>`)}
        </ul>`}
    </div>`;
}

/// Short-lived messages in one live region, so screen readers announce them.
export function Notices({ notices, onDismiss }) {
  const { t } = useApp();
  return html`
    <div class="notices" role="status" aria-live="polite">
      ${notices.map((notice) => html`
        <div class="notice ${notice.kind}" key=${notice.id}>
          <span>${notice.text}</span>
          <button type="button" class="icon" aria-label=${t('close')} onClick=${() => onDismiss(notice.id)}>×</button>
        </div>`)}
    </div>`;
}

export function Field({ id, label, required, error, hint, children }) {
  return html`
    <div class="field ${error ? 'has-error' : ''}">
      <label for=${id}>${label}${required && html`<span class="required" aria-hidden="true"> *</span>`}</label>
      ${children}
      ${hint && html`<div class="hint" id="${id}-hint">${hint}</div>`}
      ${error && html`<div class="error" id="${id}-error" role="alert">${error}</div>`}
    </div>`;
}

// Times are shown in the server's display zone (the header names it), like messages.
let offsetMinutes = -new Date().getTimezoneOffset();

export function setDisplayOffset(minutes) {
  offsetMinutes = minutes;
}

/// "2026-11-27 13:00:00" in the display zone.
export function formatTime(iso) {
  if (!iso) return '';
  const d = new Date(new Date(iso).getTime() + offsetMinutes * 60000);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}
