/* Passphrase files (see passfile.h). */
#define _POSIX_C_SOURCE 200809L
#include "passfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static tn_err check_file(int fd, const char *path, char *msg, size_t msglen)
{
	struct stat st;
	if (fstat(fd, &st) != 0) {
		snprintf(msg, msglen, "cannot stat passphrase file %s: %s", path, strerror(errno));
		return TN_ERR_IO;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(msg, msglen, "passphrase file %s is not a regular file", path);
		return TN_ERR_INSECURE;
	}
	if (st.st_uid != geteuid()) {
		snprintf(msg, msglen, "passphrase file %s belongs to uid %lu, not to you", path,
		         (unsigned long)st.st_uid);
		return TN_ERR_INSECURE;
	}
	if (st.st_mode & 077) {
		snprintf(msg, msglen,
		         "passphrase file %s is accessible by other users (mode %04lo); run: chmod "
		         "600 %s",
		         path, (unsigned long)(st.st_mode & 07777), path);
		return TN_ERR_INSECURE;
	}
	return TN_OK;
}

static tn_err read_all(int fd, const char *path, uint8_t *buf, size_t *len, char *msg,
                       size_t msglen)
{
	*len = 0;
	while (*len < TD_PASSFILE_BUF) {
		ssize_t n = read(fd, buf + *len, TD_PASSFILE_BUF - *len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(msg, msglen, "cannot read passphrase file %s: %s", path,
			         strerror(errno));
			return TN_ERR_IO;
		}
		if (n == 0)
			break;
		*len += (size_t)n;
	}
	return TN_OK;
}

tn_err td_passfile_read(const char *path, uint8_t buf[TD_PASSFILE_BUF], size_t *len, char *msg,
                        size_t msglen)
{
	*len = 0;
	if (msg && msglen)
		msg[0] = '\0';
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		int e = errno;
		snprintf(msg, msglen, "cannot open passphrase file %s: %s", path,
		         e == ELOOP ? "it is a symbolic link" : strerror(e));
		return e == ELOOP ? TN_ERR_INSECURE : TN_ERR_IO;
	}
	size_t n = 0;
	tn_err rc = check_file(fd, path, msg, msglen);
	if (rc == TN_OK)
		rc = read_all(fd, path, buf, &n, msg, msglen);
	close(fd);
	if (rc != TN_OK)
		return rc;
	if (n > 0 && buf[n - 1] == '\n') {
		n--;
		if (n > 0 && buf[n - 1] == '\r')
			n--;
	}
	if (n == 0 || n > TN_PASSPHRASE_MAX) {
		snprintf(msg, msglen, "passphrase in %s is %s (1 to %d bytes)", path,
		         n == 0 ? "empty" : "too long", TN_PASSPHRASE_MAX);
		return TN_ERR_INVAL;
	}
	*len = n;
	return TN_OK;
}
