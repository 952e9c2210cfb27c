/**
 * The development IdP's HTML: the account picker, the logout confirmation and the error
 * pages. Server-rendered, German, without any script or inline style (the pages are served
 * with a Content-Security-Policy that allows neither), the stylesheet from /assets.
 */
import type { IssuerName } from '../key-store';
import { OFFICIAL_ROLES, OfficialRole, ROLE_SCOPE } from './accounts';

export const STYLESHEET_PATH = '/assets/dev-idp.css';

export const BANNER = 'Entwicklungs-IdP — nicht für den Produktivbetrieb';

const ISSUER_LABEL: Record<IssuerName, string> = {
  citizen: 'Bürgerinnen und Bürger',
  official: 'Behörden',
};

const ROLE_LABEL: Record<OfficialRole, string> = {
  official: 'Sachbearbeitung',
  admin: 'Behörden-Administration',
  'platform-admin': 'Plattform-Administration',
};

/** Escapes text for HTML element content and double-quoted attribute values. */
export function esc(value: unknown): string {
  return String(value ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

function layout(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="de">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} – ${esc(BANNER)}</title>
<link rel="stylesheet" href="${STYLESHEET_PATH}">
</head>
<body>
<header class="dev-banner"><p>${esc(BANNER)}</p></header>
<main id="inhalt">
${body}
</main>
</body>
</html>
`;
}

export interface PickerValues {
  sub: string;
  role: OfficialRole;
  authority: string;
}

export interface PickerPage {
  issuer: IssuerName;
  issuerUrl: string;
  action: string;
  clientId: string;
  scope: string;
  values: PickerValues;
  /** Field name → message. */
  errors?: Partial<Record<keyof PickerValues, string>>;
}

const KNOWN_SUBS: Record<IssuerName, string[]> = {
  citizen: ['alice', 'bob'],
  official: ['mustermann', 'schmidt'],
};

function field(
  name: keyof PickerValues,
  label: string,
  hint: string,
  control: (describedBy: string, invalid: string) => string,
  error?: string,
): string {
  const describedBy = [`${name}-hint`, error ? `${name}-error` : ''].filter(Boolean).join(' ');
  return `<div class="field${error ? ' field-error' : ''}">
<label for="${name}">${esc(label)}</label>
<p class="hint" id="${name}-hint">${esc(hint)}</p>
${error ? `<p class="error" id="${name}-error">${esc(error)}</p>\n` : ''}${control(describedBy, error ? ' aria-invalid="true"' : '')}
</div>`;
}

/** The account picker: a user id, and for the official issuer a role and an authority. */
export function pickerPage(p: PickerPage): string {
  const errors = p.errors ?? {};
  const errorList = Object.entries(errors)
    .map(([name, message]) => `<li><a href="#${name}">${esc(message)}</a></li>`)
    .join('');
  const fields = [
    field(
      'sub',
      'Benutzerkennung (sub)',
      p.issuer === 'citizen'
        ? 'Zum Beispiel alice oder bob. Jede Kennung wird angenommen, ein Passwort gibt es nicht.'
        : 'Zum Beispiel mustermann. Jede Kennung wird angenommen, ein Passwort gibt es nicht.',
      (d, inv) =>
        `<input id="sub" name="sub" type="text" value="${esc(p.values.sub)}" list="sub-vorschlaege" required maxlength="200" autocomplete="off" spellcheck="false" aria-describedby="${d}"${inv}>
<datalist id="sub-vorschlaege">${KNOWN_SUBS[p.issuer].map((s) => `<option value="${esc(s)}"></option>`).join('')}</datalist>`,
      errors.sub,
    ),
  ];
  if (p.issuer === 'official') {
    fields.push(
      field(
        'role',
        'Rolle',
        'Bestimmt den Scope im Zugriffstoken.',
        (d, inv) =>
          `<select id="role" name="role" aria-describedby="${d}"${inv}>${OFFICIAL_ROLES.map(
            (r) => `<option value="${r}"${r === p.values.role ? ' selected' : ''}>${esc(ROLE_LABEL[r])} (${esc(ROLE_SCOPE[r])})</option>`,
          ).join('')}</select>`,
        errors.role,
      ),
      field(
        'authority',
        'Behördenkennung (authority_id)',
        'Kleinbuchstaben, Ziffern und Bindestriche, 2 bis 50 Zeichen, zum Beispiel bauamt (Plattform-Administration: platform).',
        (d, inv) =>
          `<input id="authority" name="authority" type="text" value="${esc(p.values.authority)}" required minlength="2" maxlength="50" pattern="[a-z0-9\\-]{2,50}" autocomplete="off" spellcheck="false" aria-describedby="${d}"${inv}>`,
        errors.authority,
      ),
    );
  }
  return layout(
    'Anmelden',
    `<h1>Anmelden: ${esc(ISSUER_LABEL[p.issuer])}</h1>
<p class="lead">Die Anwendung <strong>${esc(p.clientId)}</strong> bittet um eine Anmeldung beim Aussteller <code>${esc(p.issuerUrl)}</code>.</p>
${errorList ? `<div class="error-summary" role="alert"><h2>Bitte korrigieren Sie die Eingaben</h2><ul>${errorList}</ul></div>\n` : ''}<form method="post" action="${esc(p.action)}">
${fields.join('\n')}
<div class="actions">
<button type="submit" name="action" value="login">Anmelden</button>
<button type="submit" name="action" value="abort" class="secondary" formnovalidate>Abbrechen</button>
</div>
</form>
<p class="small">Angefragte Scopes: <code>${esc(p.scope || '(keine)')}</code>. Mit „Anmelden“ gelten die Anmeldung und die Einwilligung in diese Scopes als erteilt.</p>`,
  );
}

/** An error page (expired interaction, refused request). */
export function errorPage(title: string, message: string, details: Record<string, unknown> = {}): string {
  const rows = Object.entries(details)
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `<dt>${esc(k)}</dt><dd><code>${esc(v)}</code></dd>`)
    .join('');
  return layout(title, `<h1>${esc(title)}</h1>\n<p>${esc(message)}</p>${rows ? `\n<dl class="details">${rows}</dl>` : ''}`);
}

/** RP-initiated logout: oidc-provider's hidden form (with its xsrf token) and two buttons. */
export function logoutPage(host: string, form: string): string {
  return layout(
    'Abmelden',
    `<h1>Abmelden</h1>
<p>Möchten Sie sich beim Entwicklungs-IdP auf <code>${esc(host)}</code> abmelden?</p>
${form}
<div class="actions">
<button type="submit" form="op.logoutForm" name="logout" value="yes" autofocus>Abmelden</button>
<button type="submit" form="op.logoutForm" class="secondary">Angemeldet bleiben</button>
</div>`,
  );
}

export function logoutSuccessPage(): string {
  return layout('Abgemeldet', '<h1>Abgemeldet</h1>\n<p>Sie sind beim Entwicklungs-IdP abgemeldet.</p>');
}

export const STYLESHEET = `*{box-sizing:border-box}
body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;font-size:1.0625rem;line-height:1.5;color:#1b1b1b;background:#f4f4f4}
.dev-banner{background:#ffd400;color:#000;border-bottom:4px solid #000;padding:1rem;text-align:center}
.dev-banner p{margin:0;font-size:1.5rem;font-weight:700}
main{max-width:36rem;margin:2rem auto;padding:1.5rem 2rem;background:#fff;border:1px solid #c8c8c8;border-radius:4px}
h1{font-size:1.6rem;margin:0 0 1rem}
h2{font-size:1.15rem;margin:0 0 .5rem}
.lead{margin-top:0}
.field{margin:1.25rem 0}
label{display:block;font-weight:700}
.hint{margin:.1rem 0 .4rem;color:#4a4a4a;font-size:.95rem}
input,select{width:100%;font:inherit;padding:.5rem;border:2px solid #4a4a4a;border-radius:3px;background:#fff;color:#1b1b1b}
input:focus,select:focus,button:focus{outline:3px solid #0b4f9c;outline-offset:2px}
.field-error input,.field-error select{border-color:#b00020}
.error{color:#b00020;font-weight:700;margin:.2rem 0}
.error-summary{border:3px solid #b00020;padding:1rem;margin:1rem 0}
.error-summary a{color:#b00020}
.actions{display:flex;gap:1rem;flex-wrap:wrap;margin-top:1.5rem}
button{font:inherit;font-weight:700;padding:.6rem 1.4rem;border:2px solid #0b4f9c;border-radius:3px;background:#0b4f9c;color:#fff;cursor:pointer}
button.secondary{background:#fff;color:#0b4f9c}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.95em;overflow-wrap:anywhere}
.small{font-size:.9rem;color:#4a4a4a}
.details dt{font-weight:700}
.details dd{margin:0 0 .5rem}
`;
