// Small building blocks shared by the pages: tabs, dialogs, messages, dates.
import { useEffect, useRef, useState } from 'preact/hooks';

export function formatTime(text) {
  if (!text) return '—';
  const d = new Date(text);
  if (Number.isNaN(d.getTime())) return text;
  return d.toISOString().replace('T', ' ').replace(/:\d\d(\.\d+)?Z$/, ' UTC');
}

export function ago(text) {
  if (!text) return '—';
  const s = Math.round((Date.now() - new Date(text).getTime()) / 1000);
  if (s < 60) return `${Math.max(s, 0)} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

export function daysLeft(text) {
  return Math.floor((new Date(text).getTime() - Date.now()) / 86400000);
}

export const short = (tp) => (tp ? `${tp.slice(0, 8)}…${tp.slice(-4)}` : '');

export function ErrorNote({ error }) {
  if (!error) return null;
  return (
    <p class="error" role="alert">
      <strong>{error.code || 'Error'}</strong> {error.message}
    </p>
  );
}

// A tab list per WAI-ARIA: arrow keys move between tabs, Tab leaves the list.
export function Tabs({ label, tabs, current, onSelect }) {
  const refs = useRef({});
  const onKey = (e, i) => {
    const step = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
    if (!step) return;
    e.preventDefault();
    const next = tabs[(i + step + tabs.length) % tabs.length];
    onSelect(next.id);
    refs.current[next.id]?.focus();
  };
  return (
    <div role="tablist" aria-label={label} class="tabs">
      {tabs.map((t, i) => (
        <button
          role="tab"
          type="button"
          id={`tab-${t.id}`}
          ref={(el) => (refs.current[t.id] = el)}
          aria-selected={t.id === current}
          aria-controls={`panel-${t.id}`}
          tabIndex={t.id === current ? 0 : -1}
          onClick={() => onSelect(t.id)}
          onKeyDown={(e) => onKey(e, i)}
        >
          {t.label}
          {t.count !== undefined && <span class="count">{t.count}</span>}
        </button>
      ))}
    </div>
  );
}

// A modal <dialog>: the browser traps focus inside and Escape closes it.
export function Modal({ title, onClose, children, wide }) {
  const ref = useRef(null);
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    return () => d && d.open && d.close();
  }, []);
  return (
    <dialog ref={ref} class={wide ? 'wide' : ''} aria-labelledby="dialog-title" onClose={onClose} onCancel={onClose}>
      <header>
        <h2 id="dialog-title">{title}</h2>
        <button type="button" class="icon" aria-label="Close" onClick={onClose}>
          ×
        </button>
      </header>
      <div class="dialog-body">{children}</div>
    </dialog>
  );
}

// "Are you sure?" with the consequence spelled out; runs `action`, shows its error if any.
export function Confirm({ title, message, confirmLabel, danger, action, onDone }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const go = async () => {
    setBusy(true);
    setError(null);
    try {
      await action();
      onDone(true);
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };
  return (
    <Modal title={title} onClose={() => onDone(false)}>
      <p>{message}</p>
      <ErrorNote error={error} />
      <div class="actions">
        <button type="button" onClick={() => onDone(false)}>
          Cancel
        </button>
        <button type="button" class={danger ? 'danger' : 'primary'} disabled={busy} onClick={go}>
          {confirmLabel}
        </button>
      </div>
    </Modal>
  );
}

export function Field({ label, children, hint }) {
  return (
    <label class="field">
      <span>{label}</span>
      {children}
      {hint && <small>{hint}</small>}
    </label>
  );
}

export function KeyValues({ rows }) {
  return (
    <dl class="kv">
      {rows
        .filter(([, v]) => v !== undefined && v !== null && v !== '')
        .map(([k, v]) => [<dt key={`${k}-t`}>{k}</dt>, <dd key={`${k}-d`}>{v}</dd>])}
    </dl>
  );
}
