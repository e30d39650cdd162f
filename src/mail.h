/*
 * mail: recipient addresses.  Addresses are checked strictly here, before
 * anything could talk SMTP, and shown to creators only obfuscated.
 */
#ifndef OTS_MAIL_H
#define OTS_MAIL_H

#include <stddef.h>

#define MAIL_ADDR_MAX	254

/*
 * 1 if s[0..len) is an address ots will send to: local@domain, at most 254
 * bytes, dot-atom local part without quotes, a domain of at least two
 * LDH labels with an alphabetic top-level label; else 0.
 */
int	mail_address_valid(const char *s, size_t len);

/*
 * Write the obfuscated form of a valid address into out:
 * "delano@onetimesecret.com" -> "de*****@o*****.com".  0 or -1 (no room).
 */
int	mail_obfuscate(const char *addr, char *out, size_t outlen);

#endif
