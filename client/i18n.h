/* User-facing strings of tocsin go through _() so that translating them
 * (issue 7) is a build change, not an edit of every message. Without
 * gettext the macro is the identity. Only messages for people are wrapped:
 * JSON keys, protocol fields and error codes are stable and never
 * translated. */
#ifndef TOCSIN_I18N_H
#define TOCSIN_I18N_H

#if defined(TN_HAVE_GETTEXT)
#include <libintl.h>
#define _(s) gettext(s)
#else
#define _(s) (s)
#endif

#endif
