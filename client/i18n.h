/* User-facing strings of tocsin go through _() (gettext, domain "tocsin",
 * catalogs in po/). N_() marks a string for extraction where it cannot be
 * translated yet (static tables; translate with _() when printing).
 * ngettext() picks the plural form for a count. Without gettext the macros
 * are the identity. Only messages for people are wrapped: JSON keys,
 * protocol fields and error codes are stable and never translated. */
#ifndef TOCSIN_I18N_H
#define TOCSIN_I18N_H

#if defined(TN_HAVE_GETTEXT)
#include <libintl.h>
#define _(s) gettext(s)
#else
#define _(s) (s)
#define ngettext(s, p, n) ((n) == 1 ? (s) : (p))
#endif
#define N_(s) (s)

#endif
