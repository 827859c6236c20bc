// GOV.UK Frontend: mark the body as JavaScript-enabled before components render.
document.body.className += ' js-enabled' + ('noModule' in HTMLScriptElement.prototype ? ' govuk-frontend-supported' : '');
