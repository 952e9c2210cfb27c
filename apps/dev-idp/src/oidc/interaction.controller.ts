import { Controller, Get, Header, Inject, Param, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Interaction } from 'oidc-provider';
import { ApiError, Public } from '@dvd/platform';
import { AUTHORITY_PATTERN, OfficialRole, SUB_PATTERN, isOfficialRole } from './accounts';
import { formFields, readBody } from './forms';
import { PickerValues, STYLESHEET, errorPage, pickerPage } from './pages';
import { IssuerOidc, IssuerProviders, PickedAccount } from './providers';

export const DEV_IDP_OIDC = Symbol('DEV_IDP_OIDC');

const FORM_LIMIT = 8 * 1024;

const DEFAULTS: Record<IssuerOidc['name'], PickerValues> = {
  citizen: { sub: 'alice', role: 'official', authority: '' },
  official: { sub: 'mustermann', role: 'official', authority: 'bauamt' },
};

type FieldErrors = Partial<Record<keyof PickerValues, string>>;

/**
 * The development account picker, oidc-provider's login and consent in one step: the user
 * picks (or types) a user id, on the official issuer also a role and an authority; "Anmelden"
 * finishes the login and grants the requested scopes.
 */
@Public()
@Controller()
export class InteractionController {
  constructor(@Inject(DEV_IDP_OIDC) private readonly providers: IssuerProviders) {}

  @Get('assets/dev-idp.css')
  @Header('content-type', 'text/css; charset=utf-8')
  @Header('cache-control', 'public, max-age=300')
  stylesheet(): string {
    return STYLESHEET;
  }

  @Get(':issuer/interaction/:uid')
  async show(@Param('issuer') issuer: string, @Param('uid') uid: string, @Req() req: Request, @Res() res: Response) {
    const oidc = this.issuer(issuer);
    const details = await this.details(oidc, uid, req, res);
    if (!details) return;
    const hint =
      typeof details.params.login_hint === 'string' && SUB_PATTERN.test(details.params.login_hint) ? details.params.login_hint : undefined;
    const values = { ...DEFAULTS[oidc.name], sub: hint ?? details.session?.accountId ?? DEFAULTS[oidc.name].sub };
    this.page(res, 200, this.picker(oidc, details, values));
  }

  @Post(':issuer/interaction/:uid')
  async submit(@Param('issuer') issuer: string, @Param('uid') uid: string, @Req() req: Request, @Res() res: Response) {
    const oidc = this.issuer(issuer);
    const details = await this.details(oidc, uid, req, res);
    if (!details) return;
    let fields: Record<string, string | string[]>;
    try {
      fields = req.is('application/x-www-form-urlencoded') ? formFields(await readBody(req, FORM_LIMIT)) : {};
    } catch {
      return this.page(res, 413, errorPage('Eingabe zu groß', 'Das Formular war zu groß.'));
    }
    const text = (name: string) => (typeof fields[name] === 'string' ? (fields[name] as string).trim() : '');

    if (text('action') === 'abort') return res.redirect(303, await oidc.abort(req, res));

    const values: PickerValues = { sub: text('sub'), role: 'official', authority: text('authority') };
    const errors: FieldErrors = {};
    if (!SUB_PATTERN.test(values.sub))
      errors.sub = 'Die Benutzerkennung fehlt oder enthält andere Zeichen als Buchstaben, Ziffern und . _ @ + - (höchstens 200).';
    let account: PickedAccount = { sub: values.sub };
    if (oidc.name === 'official') {
      const role = text('role');
      if (isOfficialRole(role)) values.role = role as OfficialRole;
      else errors.role = 'Bitte wählen Sie eine Rolle.';
      if (!AUTHORITY_PATTERN.test(values.authority))
        errors.authority = 'Die Behördenkennung muss aus 2 bis 50 Kleinbuchstaben, Ziffern oder Bindestrichen bestehen.';
      account = { sub: values.sub, official: { role: values.role, authority: values.authority } };
    }
    if (Object.keys(errors).length) return this.page(res, 400, this.picker(oidc, details, values, errors));

    res.redirect(303, await oidc.finish(req, res, details, account));
  }

  private issuer(name: string): IssuerOidc {
    if (name !== 'citizen' && name !== 'official') throw ApiError.notFound('issuer');
    return this.providers[name];
  }

  /** The interaction behind the browser's cookie, or (answered here) a page saying it is gone. */
  private async details(oidc: IssuerOidc, uid: string, req: Request, res: Response): Promise<Interaction | undefined> {
    try {
      const details = await oidc.provider.interactionDetails(req, res);
      if (details.uid === uid) return details;
    } catch {
      // no interaction cookie, or the interaction expired
    }
    this.page(
      res,
      400,
      errorPage(
        'Anmeldung abgelaufen',
        'Diese Anmeldung ist abgelaufen oder gehört zu einem anderen Browser. Bitte starten Sie die Anmeldung in der Anwendung neu.',
      ),
    );
    return undefined;
  }

  private picker(oidc: IssuerOidc, details: Interaction, values: PickerValues, errors?: FieldErrors): string {
    return pickerPage({
      issuer: oidc.name,
      issuerUrl: oidc.issuer,
      action: `/${oidc.name}/interaction/${details.uid}`,
      clientId: String(details.params.client_id),
      scope: String(details.params.scope ?? ''),
      values,
      errors,
    });
  }

  private page(res: Response, status: number, html: string): void {
    res.status(status).setHeader('cache-control', 'no-store').type('html').send(html);
  }
}
