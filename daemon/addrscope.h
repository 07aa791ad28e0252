/* tocsind: the scope of an address a member's signed endpoint record names
 * (docs/daemon.md "Address scope", docs/security.md).
 *
 * A turned member signs whatever endpoint she likes: tcp:127.0.0.1:631 or
 * tcp:169.254.169.254:80 would make every member's dialer connect to its own
 * loopback or a link-local service, and the dial-back check would report
 * open / closed back to her (a port-scan oracle). The dialer (mesh.c) and
 * the dial-back checker (reach.c) classify the parsed address first and
 * refuse every scope but TD_SCOPE_OTHER; loopback only within a mesh on one
 * machine (tests, demo, bench): this daemon's own listener on loopback, and
 * no link from another machine yet (dialer) or the asker linked over
 * loopback (checker). Private ranges are TD_SCOPE_OTHER: members on one LAN
 * use them. */
#ifndef TD_ADDRSCOPE_H
#define TD_ADDRSCOPE_H

#include <stdbool.h>
#include <sys/socket.h>

typedef enum td_scope {
	TD_SCOPE_OTHER = 0,   /* anything else: global, private (10/8, fc00::/7 ...) */
	TD_SCOPE_LOOPBACK,    /* 127/8, ::1 */
	TD_SCOPE_UNSPECIFIED, /* 0/8 ("this network", 0.0.0.0), :: */
	TD_SCOPE_MULTICAST,   /* 224/4, ff00::/8 */
	TD_SCOPE_BROADCAST,   /* 255.255.255.255 */
	TD_SCOPE_LINKLOCAL,   /* 169.254/16, fe80::/10 */
	TD_SCOPE_UNKNOWN,     /* not AF_INET / AF_INET6 */
} td_scope;

/* IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d) IPv6
 * addresses are classified by the IPv4 address they carry. */
td_scope td_addr_scope(const struct sockaddr *sa);
const char *td_scope_name(td_scope s);
/* May this daemon connect to an address of scope s? listen_loopback: its
 * own listener is on loopback. */
bool td_scope_dialable(td_scope s, bool listen_loopback);

/* Is sa one of this machine's own interface addresses (getifaddrs)? The
 * dial-back checker does not check those either (a turned member knows our
 * LAN or public address from our own endpoint record). IPv4 carried in IPv6
 * compares as IPv4. Also true when the list cannot be read: refused, not
 * dialed blind. */
bool td_addr_is_own(const struct sockaddr *sa);

#endif
