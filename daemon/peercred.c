/* tocsind: peer credentials of a Unix socket (see peercred.h). */
#if defined(__linux__)
#define _GNU_SOURCE /* struct ucred */
#else
#define _DEFAULT_SOURCE
#endif
#include "peercred.h"

#include <stdbool.h>

#if defined(__linux__)
#include <sys/socket.h>
#include <unistd.h>

tn_err td_peer_uid(int fd, unsigned long *uid)
{
	struct ucred cr;
	socklen_t len = sizeof cr;
	*uid = (unsigned long)-1;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0 || len != sizeof cr)
		return TN_ERR_IO;
	*uid = (unsigned long)cr.uid;
	return TN_OK;
}

#elif defined(__APPLE__) || defined(__FreeBSD__) || defined(__OpenBSD__) || defined(__NetBSD__) || \
        defined(__DragonFly__)
#include <sys/types.h>
#include <unistd.h>

tn_err td_peer_uid(int fd, unsigned long *uid)
{
	uid_t u;
	gid_t g;
	*uid = (unsigned long)-1;
	if (getpeereid(fd, &u, &g) != 0)
		return TN_ERR_IO;
	*uid = (unsigned long)u;
	return TN_OK;
}

#else
tn_err td_peer_uid(int fd, unsigned long *uid)
{
	(void)fd;
	*uid = (unsigned long)-1;
	return TN_ERR_STATE;
}
#endif

#if defined(_WIN32)
bool td_peer_is_self(int fd, unsigned long *peer_uid)
{
	(void)td_peer_uid(fd, peer_uid);
	return false;
}
#else
#include <unistd.h>

bool td_peer_is_self(int fd, unsigned long *peer_uid)
{
	if (td_peer_uid(fd, peer_uid) != TN_OK)
		return false;
	return *peer_uid == (unsigned long)geteuid();
}
#endif
