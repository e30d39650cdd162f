/*
 * log: one-line messages to stderr (the web server's error log, or the
 * terminal for command-line tools).  Callers never pass a secret, a
 * passphrase, a token, a key or a request body.
 */
#ifndef OTS_LOG_H
#define OTS_LOG_H

/* Set the program name printed before each message. */
void	log_init(const char *progname);
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
/* As log_warnx, with ": strerror(errno)" appended. */
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));

#endif
