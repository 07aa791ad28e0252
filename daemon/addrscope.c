/* tocsind: address scope (see addrscope.h). */
#define _POSIX_C_SOURCE 200809L
#include "addrscope.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

/* a: host byte order. */
static td_scope v4_scope(uint32_t a)
{
	if ((a >> 24) == IN_LOOPBACKNET)
		return TD_SCOPE_LOOPBACK;
	if ((a >> 24) == 0) /* 0.0.0.0/8: "this network", never a destination */
		return TD_SCOPE_UNSPECIFIED;
	if (a == INADDR_BROADCAST)
		return TD_SCOPE_BROADCAST;
	if (IN_MULTICAST(a))
		return TD_SCOPE_MULTICAST;
	if ((a >> 16) == 0xa9fe) /* 169.254/16, RFC 3927 */
		return TD_SCOPE_LINKLOCAL;
	return TD_SCOPE_OTHER;
}

/* The address of sa as 4 (IPv4, mapped or compatible included) or 16
 * bytes; 0: neither family. */
static size_t addr_bytes(const struct sockaddr *sa, uint8_t out[16])
{
	if (sa->sa_family == AF_INET) {
		struct sockaddr_in in;
		memcpy(&in, sa, sizeof in);
		memcpy(out, &in.sin_addr, 4);
		return 4;
	}
	if (sa->sa_family != AF_INET6)
		return 0;
	struct sockaddr_in6 in6;
	memcpy(&in6, sa, sizeof in6);
	if (IN6_IS_ADDR_V4MAPPED(&in6.sin6_addr) || IN6_IS_ADDR_V4COMPAT(&in6.sin6_addr)) {
		memcpy(out, in6.sin6_addr.s6_addr + 12, 4);
		return 4;
	}
	memcpy(out, in6.sin6_addr.s6_addr, 16);
	return 16;
}

td_scope td_addr_scope(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		struct sockaddr_in in;
		memcpy(&in, sa, sizeof in);
		return v4_scope(ntohl(in.sin_addr.s_addr));
	}
	if (sa->sa_family != AF_INET6)
		return TD_SCOPE_UNKNOWN;
	struct sockaddr_in6 in6;
	memcpy(&in6, sa, sizeof in6);
	const struct in6_addr *a = &in6.sin6_addr;
	if (IN6_IS_ADDR_LOOPBACK(a))
		return TD_SCOPE_LOOPBACK;
	if (IN6_IS_ADDR_UNSPECIFIED(a))
		return TD_SCOPE_UNSPECIFIED;
	if (IN6_IS_ADDR_MULTICAST(a))
		return TD_SCOPE_MULTICAST;
	if (IN6_IS_ADDR_LINKLOCAL(a))
		return TD_SCOPE_LINKLOCAL;
	if (IN6_IS_ADDR_V4MAPPED(a) || IN6_IS_ADDR_V4COMPAT(a)) {
		uint32_t v4;
		memcpy(&v4, a->s6_addr + 12, sizeof v4);
		return v4_scope(ntohl(v4));
	}
	return TD_SCOPE_OTHER;
}

const char *td_scope_name(td_scope s)
{
	switch (s) {
	case TD_SCOPE_OTHER: return "other";
	case TD_SCOPE_LOOPBACK: return "loopback";
	case TD_SCOPE_UNSPECIFIED: return "unspecified";
	case TD_SCOPE_MULTICAST: return "multicast";
	case TD_SCOPE_BROADCAST: return "broadcast";
	case TD_SCOPE_LINKLOCAL: return "link_local";
	case TD_SCOPE_UNKNOWN: break;
	}
	return "unknown";
}

bool td_scope_dialable(td_scope s, bool listen_loopback)
{
	return s == TD_SCOPE_OTHER || (s == TD_SCOPE_LOOPBACK && listen_loopback);
}

bool td_addr_is_own(const struct sockaddr *sa)
{
	uint8_t want[16], have[16];
	size_t n = addr_bytes(sa, want);
	if (!n)
		return false;
	struct ifaddrs *list;
	if (getifaddrs(&list) != 0)
		return true;
	bool own = false;
	for (const struct ifaddrs *i = list; i && !own; i = i->ifa_next)
		own = i->ifa_addr && addr_bytes(i->ifa_addr, have) == n &&
		      memcmp(want, have, n) == 0;
	freeifaddrs(list);
	return own;
}
