/* daemon/addrscope.c: every scope class, IPv4 and IPv6 and the IPv4 forms
 * carried in IPv6, on addresses parsed the way the dialer and the dial-back
 * checker parse a member's endpoint record (td_parse_endpoint); which
 * scopes may be dialed; and which addresses are this machine's own. */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "addrscope.h"
#include "config.h"

/* ep parsed as the dialer parses a record; the test fails if it does not. */
static struct sockaddr_storage parse(const char *ep)
{
	struct sockaddr_storage ss;
	char canon[TD_ADDRSTR_MAX];
	if (td_parse_endpoint((const uint8_t *)ep, strlen(ep), &ss, canon, sizeof canon) != TN_OK)
		fail_msg("endpoint %s does not parse", ep);
	return ss;
}

static td_scope scope_of(const char *ep)
{
	struct sockaddr_storage ss = parse(ep);
	return td_addr_scope((const struct sockaddr *)&ss);
}

static const struct {
	const char *ep;
	td_scope want;
} cases[] = {
        /* IPv4 */
        {"tcp:127.0.0.1:631", TD_SCOPE_LOOPBACK},
        {"tcp:127.255.10.3:80", TD_SCOPE_LOOPBACK},
        {"tcp:0.0.0.0:7450", TD_SCOPE_UNSPECIFIED},
        {"tcp:0.1.2.3:7450", TD_SCOPE_UNSPECIFIED},
        {"tcp:224.0.0.1:7450", TD_SCOPE_MULTICAST},
        {"tcp:239.255.255.250:1900", TD_SCOPE_MULTICAST},
        {"tcp:255.255.255.255:7450", TD_SCOPE_BROADCAST},
        {"tcp:169.254.169.254:80", TD_SCOPE_LINKLOCAL},
        {"tcp:169.254.0.1:7450", TD_SCOPE_LINKLOCAL},
        {"tcp:10.1.2.3:7450", TD_SCOPE_OTHER},
        {"tcp:172.16.0.1:7450", TD_SCOPE_OTHER},
        {"tcp:192.168.1.1:80", TD_SCOPE_OTHER},
        {"tcp:203.0.113.7:7450", TD_SCOPE_OTHER},
        {"tcp:126.255.255.255:7450", TD_SCOPE_OTHER},
        {"tcp:128.0.0.1:7450", TD_SCOPE_OTHER},
        {"tcp:169.253.255.255:7450", TD_SCOPE_OTHER},
        {"tcp:169.255.0.0:7450", TD_SCOPE_OTHER},
        {"tcp:223.255.255.255:7450", TD_SCOPE_OTHER},
        {"tcp:240.0.0.1:7450", TD_SCOPE_OTHER},
        {"tcp:255.255.255.254:7450", TD_SCOPE_OTHER},
        /* IPv6 */
        {"tcp:[::1]:631", TD_SCOPE_LOOPBACK},
        {"tcp:[::]:7450", TD_SCOPE_UNSPECIFIED},
        {"tcp:[ff02::1]:7450", TD_SCOPE_MULTICAST},
        {"tcp:[ff05::c]:1900", TD_SCOPE_MULTICAST},
        {"tcp:[fe80::1]:7450", TD_SCOPE_LINKLOCAL},
        {"tcp:[febf:ffff::1]:7450", TD_SCOPE_LINKLOCAL},
        {"tcp:[fec0::1]:7450", TD_SCOPE_OTHER},
        {"tcp:[fd00::5]:7450", TD_SCOPE_OTHER},
        {"tcp:[2001:db8::7]:7450", TD_SCOPE_OTHER},
        {"tcp:[::2]:7450", TD_SCOPE_UNSPECIFIED}, /* IPv4-compatible 0.0.0.2 */
        /* IPv4 carried in IPv6: by the IPv4 address */
        {"tcp:[::ffff:127.0.0.1]:631", TD_SCOPE_LOOPBACK},
        {"tcp:[::ffff:0.0.0.0]:631", TD_SCOPE_UNSPECIFIED},
        {"tcp:[::ffff:224.0.0.251]:5353", TD_SCOPE_MULTICAST},
        {"tcp:[::ffff:255.255.255.255]:7450", TD_SCOPE_BROADCAST},
        {"tcp:[::ffff:169.254.169.254]:80", TD_SCOPE_LINKLOCAL},
        {"tcp:[::ffff:10.0.0.1]:7450", TD_SCOPE_OTHER},
        {"tcp:[::ffff:198.51.100.1]:7450", TD_SCOPE_OTHER},
        {"tcp:[::127.0.0.1]:631", TD_SCOPE_LOOPBACK}, /* IPv4-compatible */
        {"tcp:[::169.254.1.1]:80", TD_SCOPE_LINKLOCAL},
        {"tcp:[64:ff9b::127.0.0.1]:631", TD_SCOPE_OTHER}, /* NAT64: a gateway's, not ours */
};

static void every_class(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		td_scope got = scope_of(cases[i].ep);
		if (got != cases[i].want)
			fail_msg("%s: scope %s, want %s", cases[i].ep, td_scope_name(got),
			         td_scope_name(cases[i].want));
	}
}

static void unknown_family(void **state)
{
	(void)state;
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	ss.ss_family = AF_UNIX;
	assert_int_equal(td_addr_scope((const struct sockaddr *)&ss), TD_SCOPE_UNKNOWN);
	assert_false(td_scope_dialable(TD_SCOPE_UNKNOWN, true));
}

static void names(void **state)
{
	(void)state;
	assert_string_equal(td_scope_name(TD_SCOPE_OTHER), "other");
	assert_string_equal(td_scope_name(TD_SCOPE_LOOPBACK), "loopback");
	assert_string_equal(td_scope_name(TD_SCOPE_UNSPECIFIED), "unspecified");
	assert_string_equal(td_scope_name(TD_SCOPE_MULTICAST), "multicast");
	assert_string_equal(td_scope_name(TD_SCOPE_BROADCAST), "broadcast");
	assert_string_equal(td_scope_name(TD_SCOPE_LINKLOCAL), "link_local");
	assert_string_equal(td_scope_name(TD_SCOPE_UNKNOWN), "unknown");
}

/* Loopback only for a daemon listening on loopback itself; the others never. */
static void dialable(void **state)
{
	(void)state;
	for (int lo = 0; lo <= 1; lo++) {
		assert_true(td_scope_dialable(TD_SCOPE_OTHER, lo));
		assert_int_equal(td_scope_dialable(TD_SCOPE_LOOPBACK, lo), lo);
		assert_false(td_scope_dialable(TD_SCOPE_UNSPECIFIED, lo));
		assert_false(td_scope_dialable(TD_SCOPE_MULTICAST, lo));
		assert_false(td_scope_dialable(TD_SCOPE_BROADCAST, lo));
		assert_false(td_scope_dialable(TD_SCOPE_LINKLOCAL, lo));
	}
}

static bool own(const char *ep)
{
	struct sockaddr_storage ss = parse(ep);
	return td_addr_is_own((const struct sockaddr *)&ss);
}

/* This machine's interface addresses: lo's 127.0.0.1 always, in either
 * form; a documentation address (RFC 5737, 3849) never. */
static void own_addresses(void **state)
{
	(void)state;
	assert_true(own("tcp:127.0.0.1:631"));
	assert_true(own("tcp:[::ffff:127.0.0.1]:631"));
	assert_false(own("tcp:127.0.0.2:631")); /* loopback scope, but not an interface's */
	assert_false(own("tcp:203.0.113.7:7450"));
	assert_false(own("tcp:[::ffff:203.0.113.7]:7450"));
	assert_false(own("tcp:[2001:db8::7]:7450"));
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	ss.ss_family = AF_UNIX;
	assert_false(td_addr_is_own((const struct sockaddr *)&ss));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(every_class),   cmocka_unit_test(unknown_family),
	        cmocka_unit_test(names),         cmocka_unit_test(dialable),
	        cmocka_unit_test(own_addresses),
	};
	return cmocka_run_group_tests_name("addrscope", tests, NULL, NULL);
}
