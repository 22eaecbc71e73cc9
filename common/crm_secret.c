/* Reading a password from stdin, without echo on a terminal. */
#include "crm_secret.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

enum crm_err crm_secret_read(const char *prompt, char *out, size_t n, struct crm_error *err)
{
	struct termios old, quiet;
	bool tty = isatty(STDIN_FILENO) != 0;
	size_t len;
	bool got;

	if (tty) {
		fputs(prompt, stderr);
		fflush(stderr);
		if (tcgetattr(STDIN_FILENO, &old) == 0) {
			quiet = old;
			quiet.c_lflag &= ~(tcflag_t)ECHO;
			tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
		} else {
			tty = false;
		}
	}
	got = n > 1 && fgets(out, (int)n, stdin) != NULL;
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	if (!got) {
		if (n)
			out[0] = '\0';
		return crm_fail(err, CRM_EUSAGE, "no password given (type it, or pipe it on stdin)");
	}
	len = strlen(out);
	while (len && (out[len - 1] == '\n' || out[len - 1] == '\r'))
		out[--len] = '\0';
	if (!len)
		return crm_fail(err, CRM_EUSAGE, "no password given (type it, or pipe it on stdin)");
	return CRM_OK;
}
