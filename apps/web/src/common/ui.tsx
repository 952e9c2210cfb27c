/**
 * Small building blocks in KERN UX markup (kern-* classes): headings that take the focus
 * on navigation, alerts, form fields with hint and error wired to aria-describedby, buttons.
 */
import { useEffect, useId, useRef, type ButtonHTMLAttributes, type InputHTMLAttributes, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { describeError } from './errors';

/**
 * The page's h1: sets the document title and takes the focus when the page opens, so a
 * screen reader announces the new page after a client-side navigation.
 */
export function PageTitle({ children, title }: { children: ReactNode; title: string }) {
  const ref = useRef<HTMLHeadingElement>(null);
  const { t } = useTranslation();
  useEffect(() => {
    document.title = `${title} – ${t('app.name')}`;
  }, [title, t]);
  useEffect(() => {
    ref.current?.focus({ preventScroll: false });
  }, []);
  return (
    <h1 className="kern-heading-large page-title" tabIndex={-1} ref={ref}>
      {children}
    </h1>
  );
}

export type AlertKind = 'info' | 'success' | 'warning' | 'danger';

export function Alert({ kind, title, children, testId }: { kind: AlertKind; title: string; children?: ReactNode; testId?: string }) {
  const icon = kind === 'danger' ? 'danger' : kind;
  return (
    <div className={`kern-alert kern-alert--${kind}`} role={kind === 'danger' ? 'alert' : 'status'} data-testid={testId}>
      <div className="kern-alert__header">
        <span className={`kern-icon kern-icon--${icon}`} aria-hidden="true" />
        <span className="kern-title">{title}</span>
      </div>
      {children ? <div className="kern-alert__body">{children}</div> : null}
    </div>
  );
}

/** An error of an SDK call as an alert (nothing when there is none). */
export function ErrorAlert({ error, title }: { error: unknown; title?: string }) {
  const { t } = useTranslation();
  if (!error) return null;
  return (
    <Alert kind="danger" title={title ?? t('errors.title')}>
      <p className="kern-body">{describeError(t, error)}</p>
    </Alert>
  );
}

interface FieldProps extends Omit<InputHTMLAttributes<HTMLInputElement>, 'id'> {
  label: string;
  hint?: string;
  error?: string | null;
  optional?: boolean;
  id?: string;
}

/** A labelled input; hint and error are announced with the field. */
export function Field({ label, hint, error, optional, id, className, ...input }: FieldProps) {
  const { t } = useTranslation();
  const auto = useId();
  const fid = id ?? auto;
  const described = [hint ? `${fid}-hint` : null, error ? `${fid}-error` : null].filter(Boolean).join(' ') || undefined;
  return (
    <div className={`kern-form-input${error ? ' kern-form-input--error' : ''}`}>
      <label className="kern-label" htmlFor={fid}>
        {label}
        {optional ? <span className="kern-label__optional"> – {t('common.optional')}</span> : null}
      </label>
      {hint ? (
        <div className="kern-hint" id={`${fid}-hint`}>
          {hint}
        </div>
      ) : null}
      <input
        id={fid}
        className={`kern-form-input__input${error ? ' kern-form-input__input--error' : ''}${className ? ` ${className}` : ''}`}
        aria-describedby={described}
        aria-invalid={error ? true : undefined}
        {...input}
      />
      {error ? <FieldError id={`${fid}-error`} text={error} /> : null}
    </div>
  );
}

export function FieldError({ id, text }: { id: string; text: string }) {
  return (
    <p className="kern-error" id={id}>
      <span className="kern-icon kern-icon--danger kern-icon--small" aria-hidden="true" />
      <span className="kern-body">{text}</span>
    </p>
  );
}

interface TextAreaProps {
  label: string;
  value: string;
  onChange: (v: string) => void;
  hint?: string;
  error?: string | null;
  optional?: boolean;
  id?: string;
  rows?: number;
  maxLength?: number;
  required?: boolean;
  disabled?: boolean;
}

export function TextArea({ label, value, onChange, hint, error, optional, id, rows = 4, maxLength, required, disabled }: TextAreaProps) {
  const { t } = useTranslation();
  const auto = useId();
  const fid = id ?? auto;
  const described = [hint ? `${fid}-hint` : null, error ? `${fid}-error` : null].filter(Boolean).join(' ') || undefined;
  return (
    <div className={`kern-form-input${error ? ' kern-form-input--error' : ''}`}>
      <label className="kern-label" htmlFor={fid}>
        {label}
        {optional ? <span className="kern-label__optional"> – {t('common.optional')}</span> : null}
      </label>
      {hint ? (
        <div className="kern-hint" id={`${fid}-hint`}>
          {hint}
        </div>
      ) : null}
      <textarea
        id={fid}
        className={`kern-form-input__input${error ? ' kern-form-input__input--error' : ''}`}
        rows={rows}
        value={value}
        maxLength={maxLength}
        required={required}
        disabled={disabled}
        aria-describedby={described}
        aria-invalid={error ? true : undefined}
        onChange={(e) => onChange(e.target.value)}
      />
      {error ? <FieldError id={`${fid}-error`} text={error} /> : null}
    </div>
  );
}

interface SelectProps {
  label: string;
  id?: string;
  value: string;
  onChange: (v: string) => void;
  options: Array<{ value: string; label: string }>;
  hint?: string;
  disabled?: boolean;
}

export function Select({ label, id, value, onChange, options, hint, disabled }: SelectProps) {
  const auto = useId();
  const fid = id ?? auto;
  return (
    <div className="kern-form-input">
      <label className="kern-label" htmlFor={fid}>
        {label}
      </label>
      {hint ? (
        <div className="kern-hint" id={`${fid}-hint`}>
          {hint}
        </div>
      ) : null}
      <div className="kern-form-input__select-wrapper">
        <select
          id={fid}
          className="kern-form-input__select"
          value={value}
          disabled={disabled}
          aria-describedby={hint ? `${fid}-hint` : undefined}
          onChange={(e) => onChange(e.target.value)}
        >
          {options.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </select>
      </div>
    </div>
  );
}

type Variant = 'primary' | 'secondary' | 'tertiary';

interface ButtonProps extends Omit<ButtonHTMLAttributes<HTMLButtonElement>, 'children'> {
  variant?: Variant;
  icon?: string;
  small?: boolean;
  busy?: boolean;
  children: ReactNode;
}

export function Button({ variant = 'primary', icon, small, busy, type = 'button', className, disabled, children, ...rest }: ButtonProps) {
  return (
    <button
      type={type}
      className={`kern-btn kern-btn--${variant}${small ? ' kern-btn--x-small' : ''}${className ? ` ${className}` : ''}`}
      disabled={disabled || busy}
      aria-busy={busy || undefined}
      {...rest}
    >
      {icon ? <span className={`kern-icon kern-icon--${icon}`} aria-hidden="true" /> : null}
      <span className="kern-label">{children}</span>
    </button>
  );
}

/** Shown while a view loads (announced politely). */
export function Loading({ label }: { label?: string }) {
  const { t } = useTranslation();
  return (
    <p className="kern-body loading" role="status">
      {label ?? t('common.loading')}
    </p>
  );
}

/** A visually hidden live region: what it holds is read out when it changes. */
export function LiveRegion({ children, assertive }: { children: ReactNode; assertive?: boolean }) {
  return (
    <div className="kern-sr-only" aria-live={assertive ? 'assertive' : 'polite'} aria-atomic="true">
      {children}
    </div>
  );
}

export function Section({ title, children, id, level = 2 }: { title: string; children: ReactNode; id?: string; level?: 2 | 3 }) {
  const auto = useId();
  const hid = id ?? `s${auto}`;
  const H = level === 2 ? 'h2' : 'h3';
  return (
    <section className="app-section" aria-labelledby={hid}>
      <H className={level === 2 ? 'kern-heading-medium' : 'kern-heading-small'} id={hid}>
        {title}
      </H>
      {children}
    </section>
  );
}
